"""What an operator watches: Prometheus metrics, health and readiness, and the access log.

Every server process (Rasa, the actions, the desk) has its own registry of the metrics it can see
(``metrics``), the same ``/metrics``, ``/health`` and ``/ready`` routes and one access line per
request (``web``), and its logging set up once from the settings (``logs``). docs/OPERATIONS.md
lists the metrics, what to alert on and how Prometheus scrapes them.
"""
