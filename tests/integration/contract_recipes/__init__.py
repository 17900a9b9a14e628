"""Contract-test recipes of the domains, one module each (see `_domain_recipes` in test_route_contracts.py).

A module holds ``creating(world)`` and ``versioned(world)``, each answering
``{(method, path): lambda: Call(...)}`` for that domain's creating POSTs and updates; import ``Call`` and
``World`` from ``tests.integration.test_route_contracts`` inside the module.
"""
