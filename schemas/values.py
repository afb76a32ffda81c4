"""The partition values every layer shares: the vocabulary of the table contract, declared once.

A protocol, a rule set or a match mode names a partition (``predictions/.../protocol=full-match``),
so the stages, the libraries that implement them, the report and the tests all spell it from here.
"""

from __future__ import annotations

FULL_MATCH, CANDIDATES = "full-match", "candidates"
PROTOCOLS = (FULL_MATCH, CANDIDATES)  # probing: the paper's protocol, and mLAMA's typed querying

DEFAULT_RULES, FACT_CL = "default", "fact-cl"
RULE_SETS = (DEFAULT_RULES, FACT_CL)  # factrace's rules, or the authors' (fact-cl) end to end

TOKENS, TEXT = "tokens", "text"
MATCH_MODES = (TOKENS, FACT_CL, TEXT)  # presence: token ids, the authors' substrings, normalized text

NO_DUMP = "none"  # the dump partition of tables that read no dump (facts, predictions' quarantine)
NO_INTERVENTION = "none"  # the model as it is
ENGLISH_LANG = "en"  # LRP2 projects every other language towards it; its gains count the facts English knows
