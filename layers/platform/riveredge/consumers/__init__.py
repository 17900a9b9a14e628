"""Handlers for everything that does not come through the API: one module per event source.

==================  ==========  ====================================  ================================
source              module      tenant from                           deduplicated by
==================  ==========  ====================================  ================================
SQS queue           ``sqs``     message attribute ``tenant_id``       message id
EventBridge rule    ``bus``     ``detail.tenant_id`` (or a getter)    ``detail.event_id``, else the id
S3 notification     ``s3``      the object key (``<tid>/...``)        bucket, key, version / sequencer
DynamoDB Streams    ``streams`` the item's ``pk`` (``T#<tid>#...``)   sequence number
Scheduler           ``schedule`` the input's ``tenant_id``            schedule ARN + scheduled time
Step Functions      ``tasks``   the input's ``tenant_id``             execution + state
==================  ==========  ====================================  ================================

Every one of them, before the handler runs: finds the tenant in the event and
checks that it exists (an event naming no tenant, an unknown tenant or a body
that fails its model is *refused*: logged and sent to the function's
dead-letter queue with the reason, never run in some default scope); sets the
tenancy scope, so the DynamoDB guard keeps the handler inside that tenant;
binds the tenant, the event id and the correlation id of the request that
caused the event to every log line; and runs the handler once per event id
(Powertools idempotency), since every AWS source delivers at least once.

Import only the module of the source a function consumes: each is small and
loads Powertools' batch or idempotency utilities on the first event, not at
cold start.
"""

from riveredge.consumers.delivery import Delivery, Refused, RetryLater

__all__ = ["Delivery", "Refused", "RetryLater"]
