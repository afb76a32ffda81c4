"""The probe stage's options (torch-free, so ``factrace --help`` works without the probing extra)."""

from __future__ import annotations

from dataclasses import dataclass

from tracer.config import option, require
from tracer.errors import ConfigError

PROTOCOL_NAMES = ("full-match", "candidates")
RULE_NAMES = ("default", "fact-cl")


@dataclass
class ProbeConfig:
    model: str = option(help="masked LM: a save_pretrained directory with safetensors weights, or a cached hub name")
    warehouse: str = option(help="warehouse directory (reads facts, writes predictions and neurons)")
    protocol: list[str] = option(
        ["full-match"], help="one or both protocols; both share the same forward passes", choices=PROTOCOL_NAMES
    )
    neurons: bool = option(False, help="also rank FFN neurons with PROBELESS for the correctly predicted facts")
    langs: list[str] = option([], help="only these languages (default: every language in facts)")
    shard: str = option("", help="'i/n': probe only shard i (0-based) of n, languages balanced by fact count")
    spark_tasks: int = option(0, help="run the languages as this many Spark tasks (jobs/probe.py); 0: this process")
    force: bool = option(False, help="probe again the (model, lang, protocol) partitions already written")
    device: str = option("", help="cpu, cuda or cuda:N (default: CUDA when present, else CPU)")
    max_tokens: int = option(0, help="padded tokens per batch; 0: 4096 on CPU, 32768 on CUDA")
    top_k: int = option(50, help="neurons kept per fact")
    neuron_precision: str = option(
        "fp32",
        help="`fp32`: capture the neurons on the weights loaded in fp32, even when probing runs in bf16 (one more "
        "copy of the model in memory); `model`: in the dtype the model runs in",
        choices=("fp32", "model"),
    )
    rules: str = option(
        "default",
        help="`fact-cl`: when several mask counts match, keep the last (as the authors' code) instead of the "
        "smallest; its rows go to the rules=fact-cl partitions",
        choices=RULE_NAMES,
    )
    model_id: str = option("", help="partition value for the model (default: <directory name>-<sha1 of its files>)")

    def __post_init__(self) -> None:
        unknown = [p for p in self.protocol if p not in PROTOCOL_NAMES]
        if unknown or not self.protocol:
            raise ConfigError(f"--protocol: choose from {', '.join(PROTOCOL_NAMES)}; got {unknown or 'none'}")
        self.protocol = list(dict.fromkeys(self.protocol))
        require(self.max_tokens >= 0, f"--max-tokens must be 0 (automatic) or more, got {self.max_tokens}")
        require(self.top_k >= 1, f"--top-k must be at least 1, got {self.top_k}")
        require(self.spark_tasks >= -1, f"--spark-tasks must be -1 (one per core), 0 or more; got {self.spark_tasks}")
        require(self.rules in RULE_NAMES, f"--rules: choose from {', '.join(RULE_NAMES)}; got {self.rules!r}")
        self.shard_of()

    def shard_of(self) -> tuple[int, int]:
        """(i, n) from ``--shard i/n``; (0, 1) when not sharded."""
        if not self.shard:
            return 0, 1
        try:
            i, n = (int(x) for x in self.shard.split("/"))
        except ValueError:
            raise ConfigError(f"--shard must look like 'i/n', e.g. 0/4; got {self.shard!r}") from None
        if not 0 <= i < n:
            raise ConfigError(f"--shard {self.shard}: need 0 <= i < n")
        return i, n
