"""Test systems written in any language: HTTP and command triggers, an effect sink, record checks.

Nothing here imports psycopg or redis until a check runs.
"""

from .checks import redis_keys, sql_check, sql_count, sql_value
from .command import COMMAND, CommandFailed, CommandResult, CommandTrigger, command_trigger
from .http import HTTP, HttpResponse, HttpStatusError, HttpTrigger, http_trigger
from .service import Service, ServiceError, free_port
from .sink import WORKER_HEADER, EffectSink, SinkCall, SinkFault
from .stack import Stack, expand_vars

__all__ = [
    "COMMAND", "HTTP", "WORKER_HEADER",
    "CommandFailed", "CommandResult", "CommandTrigger", "EffectSink", "HttpResponse", "HttpStatusError",
    "HttpTrigger", "Service", "ServiceError", "SinkCall", "SinkFault",
    "Stack", "command_trigger", "expand_vars", "free_port", "http_trigger", "redis_keys", "sql_check", "sql_count",
    "sql_value",
]
