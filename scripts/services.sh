#!/usr/bin/env bash
# Servers the test suite needs. Nothing yet: the production path (Kafka,
# ClickHouse, PostgreSQL) adds them here.
set -euo pipefail
case "${1:-status}" in
  up|down|status) exit 0 ;;
  *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
