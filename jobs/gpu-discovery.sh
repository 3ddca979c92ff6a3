#!/usr/bin/env bash
# Spark GPU discovery script (spark.executor.resource.gpu.discoveryScript / spark.worker.resource.gpu.discoveryScript):
# prints the GPUs this machine has, as Spark's ResourceInformation JSON: {"name":"gpu","addresses":["0","1"]}.
# EDITFORGE_FAKE_GPUS=N advertises N fake GPUs (tests of GPU binding on machines without any).
set -euo pipefail
if [ -n "${EDITFORGE_FAKE_GPUS:-}" ]; then
  ids=$(seq 0 $((EDITFORGE_FAKE_GPUS - 1)))
elif command -v nvidia-smi >/dev/null 2>&1; then
  ids=$(nvidia-smi --query-gpu=index --format=csv,noheader)
else
  ids=""
fi
printf '{"name": "gpu", "addresses": ['
sep=""
for i in $ids; do printf '%s"%s"' "$sep" "$(echo "$i" | tr -d ' ')"; sep=", "; done
printf ']}\n'
