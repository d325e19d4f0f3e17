"""Index documents into Sluice with the official Elasticsearch Python client
(`helpers.bulk`), authenticating with an API key given as an (id, key) pair,
which the client sends as `Authorization: ApiKey base64(id:key)`.

Usage: elastic_bulk.py BASE_URL API_KEY
Prints one JSON line: {"indexed": n, "errors": [...], "version": "..."}.
"""

import json
import sys

from elasticsearch import Elasticsearch, helpers

base, key = sys.argv[1], sys.argv[2]
es = Elasticsearch(base, api_key=("shipper", key))
version = es.info()["version"]["number"]
actions = [
    {"_index": "orders-2025.02.01", "_id": f"o-{i}", "_source": {
        "@timestamp": f"2025-02-01T12:00:0{i}Z",
        "message": f"order {i} shipped",
        "log": {"level": "info"},
        "service": {"name": "orders"},
    }}
    for i in range(3)
]
actions.append({"_op_type": "delete", "_index": "orders-2025.02.01", "_id": "o-0"})
indexed, errors = helpers.bulk(es, actions, raise_on_error=False)
print(json.dumps({"indexed": indexed, "errors": errors, "version": version}))
