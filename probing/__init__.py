"""Everything that needs torch/transformers (probing, neurons, LRP2). Arrives with issue 4; install the
``probing`` extra for it. Nothing in ``tracer`` imports this package."""
