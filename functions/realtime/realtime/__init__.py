"""The WebSocket API's routes: $connect (authenticated by the access token), $disconnect, $default."""
