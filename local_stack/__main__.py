"""`make run`: moto as a server, every resource of template.yaml, the demo tenant, the API on :3000."""

from __future__ import annotations

import logging
import os

from local_stack.stack import DEFAULT_DEMO_PASSWORD, DEMO_ADMIN_EMAIL, DEMO_TENANT, OPERATOR_EMAIL, LocalStack


def main() -> None:
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "WARNING"), format="%(asctime)s %(name)s %(message)s")
    # Cold starts, timeouts and runtime exits of the functions' environments (REPORT lines with LOG_LEVEL=DEBUG)
    logging.getLogger("local_stack.lambda").setLevel(os.environ.get("LAMBDA_LOG_LEVEL", "INFO"))
    host = os.environ.get("HOST", "127.0.0.1")
    port = int(os.environ.get("PORT", "3000"))
    moto_port = int(os.environ.get("MOTO_PORT", "5000"))
    ws_port = int(os.environ.get("WS_PORT", "3001"))
    ws_management_port = int(os.environ.get("WS_MANAGEMENT_PORT", "3002"))
    password = os.environ.get("DEMO_PASSWORD", DEFAULT_DEMO_PASSWORD)
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")

    base = f"http://{host}:{port}"
    stack = LocalStack(
        moto_port=moto_port,
        parameters={"AppBaseUrl": base},
        websocket_port=ws_port,
        websocket_management_port=ws_management_port,
    ).start()
    seeded = stack.seed_demo(password)
    stack.scheduler.start()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)

    from local_stack.server import serve

    server = serve(stack, host, port)
    websocket = stack.websocket
    print(
        f"""
RiverEdge local stack is up.
  API          {base}/api
  OpenAPI      {base}/openapi.json
  Swagger UI   {base}/docs
  Sent mail    {base}/_local/mail
  WebSocket    {websocket.url if websocket else "(none)"}/?token=<access token>   (real-time push)
  WS manage    {websocket.management_url if websocket else "(none)"}/@connections/<id>
  Moto (AWS)   http://127.0.0.1:{moto_port}

  Platform operator  tenant "platform"      {OPERATOR_EMAIL}
  Demo tenant        tenant "{DEMO_TENANT}" (id {seeded["tenant"]["id"]})  {DEMO_ADMIN_EMAIL}
  Password           {"(from DEMO_PASSWORD)" if "DEMO_PASSWORD" in os.environ else password}

  curl -s {base}/api/auth/login -H 'Content-Type: application/json' \\
       -d '{{"tenant": "{DEMO_TENANT}", "email": "{DEMO_ADMIN_EMAIL}", "password": "..."}}'
Press Ctrl+C to stop.""",
        flush=True,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.shutdown()
        stack.stop()


if __name__ == "__main__":
    main()
