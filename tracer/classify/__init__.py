"""Classification of probed facts: absent types, cross-lingual neuron similarity, patterns, statistics.

Pure Python and NumPy on Arrow tables, so the classify stage, its Spark tasks and the tests call the
same functions.
"""
