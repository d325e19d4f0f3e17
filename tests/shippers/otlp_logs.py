"""Send logs to Sluice with the OpenTelemetry Python SDK's OTLP/HTTP log
exporter (protobuf, gzip), configured by the standard OTEL_EXPORTER_OTLP_*
variables with the endpoint base BASE_URL/v1/otlp, as an instrumented
application would be.

Usage: otlp_logs.py BASE_URL API_KEY
Prints one JSON line: {"trace_id": "<hex>", "span_id": "<hex>"} of the span
the error record was emitted in. Exits non-zero if any export failed.
"""

import json
import os
import sys

from opentelemetry._logs import SeverityNumber
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import LogRecordExportResult, SimpleLogRecordProcessor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider

base, key = sys.argv[1], sys.argv[2]
results = []
# Configured as the README says, through the SDK's standard variables: the
# exporter appends /v1/logs to the base and URL-decodes the header value.
os.environ["OTEL_EXPORTER_OTLP_ENDPOINT"] = f"{base}/v1/otlp"
os.environ["OTEL_EXPORTER_OTLP_HEADERS"] = f"Authorization=Bearer%20{key}"
os.environ["OTEL_EXPORTER_OTLP_COMPRESSION"] = "gzip"


class CheckedExporter(OTLPLogExporter):
    """The SDK's exporter, remembering each export's result."""

    def export(self, batch):
        result = super().export(batch)
        results.append(result)
        return result


resource = Resource.create({"service.name": "checkout", "project_id": "shop", "deployment.environment": "test"})
exporter = CheckedExporter()
provider = LoggerProvider(resource=resource)
provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
logger = provider.get_logger("shop.cart", "1.2.3")
tracer = TracerProvider(resource=resource).get_tracer("shop.cart")

logger.emit(severity_number=SeverityNumber.INFO, severity_text="INFO", body="cart opened", attributes={"cart.items": 3})
with tracer.start_as_current_span("pay") as span:
    context = span.get_span_context()
    logger.emit(
        severity_number=SeverityNumber.ERROR,
        severity_text="ERROR",
        body="payment declined",
        attributes={"http.status_code": 402, "retryable": False},
    )
logger.emit(severity_number=SeverityNumber.WARN, body={"event": "slow", "ms": 870})
provider.shutdown()

failed = [r for r in results if r != LogRecordExportResult.SUCCESS]
if len(results) != 3 or failed:
    sys.exit(f"exports: {results}")
print(json.dumps({"trace_id": format(context.trace_id, "032x"), "span_id": format(context.span_id, "016x")}))
