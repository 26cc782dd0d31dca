"""`healthmon bench`: throughput floors, the full pipeline, latency, memory and state size in one run.

Every run reads the same standard workload from one broker in its own child process:
1. raw aiokafka consume + orjson decode, 2. a bare Faust agent that only decodes, 3. the full
pipeline on single-event messages, 4. the full pipeline on batch envelopes, 5. run 4 with several
workers; then the event-to-alert latency at a fixed offered load. See BENCHMARKS.md.
"""

from healthmon.bench.report import render_json, render_table
from healthmon.bench.runner import BenchOptions, run_bench

__all__ = ["BenchOptions", "render_json", "render_table", "run_bench"]
