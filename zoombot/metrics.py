"""Prometheus metrics, shared by the web tier and the jobs (exposed at /metrics)."""
from prometheus_client import Counter, Histogram

deliveries = Counter("zoombot_webhook_deliveries_total", "Verified webhook deliveries by outcome", ["outcome"])
refusals = Counter("zoombot_webhook_refusals_total", "Refused webhook requests by reason", ["reason"])
handler_seconds = Histogram("zoombot_webhook_handler_seconds", "Time to store and handle one event", ["event"])
