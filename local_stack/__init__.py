"""The Docker-free local stack: moto as AWS, resources from template.yaml, handlers in-process.

`LocalStack` provisions everything template.yaml declares into moto (in-process
for tests, as a server for `make run`), runs Lambda handlers in-process wherever
AWS would invoke them (API Gateway, Step Functions tasks, EventBridge rules,
S3 notifications, schedules) and serves the API through a gateway that reads
the template's API events and runs the real authorizer.
"""

from local_stack.stack import LocalStack

__all__ = ["LocalStack"]
