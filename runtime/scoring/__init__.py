"""Scoring: rules declared in YAML computed in the database, kept current, published.

``periods``  period keys and their local boundaries
``rules``    the typed rules (items, caps, weights, indices, bands, ranking)
``sql``      the one aggregate statement per rule
``tables``   ``yidi_score``, ``yidi_score_published``, ``yidi_score_run``
``engine``   ``Scorer``: recompute, incremental updates on writes, publish, read
"""

from runtime.scoring import tables as tables  # registers the score tables with every store
