"""Finding fact labels in segments: normalization, label sets, Aho-Corasick engines, the two matchers."""
