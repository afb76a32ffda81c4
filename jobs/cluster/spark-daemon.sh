#!/usr/bin/env bash
# Run one Spark standalone daemon in the foreground: the master, or a worker of a master.
#
#   spark-daemon.sh master HOST PORT [WEBUI_PORT]
#   spark-daemon.sh worker MASTER_URL HOST CORES MEMORY WORK_DIR [WEBUI_PORT]
#
# HOST "-" means this machine's name. SPARK_HOME defaults to the pip-installed pyspark's (it ships
# the same jars and bin/spark-class). The Slurm script (factrace.sbatch) and the standalone-cluster
# test (tests/integration/test_spark_submit.py) start their daemons with exactly these commands.
set -euo pipefail

if [[ -z "${SPARK_HOME:-}" ]]; then
  SPARK_HOME="$("${PYTHON:-python3}" -c 'import os, pyspark; print(os.path.dirname(pyspark.__file__))')"
fi
spark_class="$SPARK_HOME/bin/spark-class"
usage() {
  echo "usage: $0 master HOST PORT [WEBUI_PORT] | worker MASTER_URL HOST CORES MEMORY WORK_DIR [WEBUI_PORT]" >&2
  exit 2
}
host_of() { if [[ "$1" == "-" ]]; then hostname -f; else echo "$1"; fi; }

case "${1:-}" in
  master)
    [[ $# -ge 3 ]] || usage
    exec "$spark_class" org.apache.spark.deploy.master.Master \
      --host "$(host_of "$2")" --port "$3" --webui-port "${4:-8080}"
    ;;
  worker)
    [[ $# -ge 6 ]] || usage
    mkdir -p "$6"
    exec "$spark_class" org.apache.spark.deploy.worker.Worker "$2" \
      --host "$(host_of "$3")" --cores "$4" --memory "$5" --work-dir "$6" --webui-port "${7:-8081}"
    ;;
  *) usage ;;
esac
