"""Dashboards (驾驶舱): card figures computed in the database, charts drawn as SVG.

``cards``  the dashboards of a deployment and the queries behind their cards
``svg``    bar, line and pie charts as inline SVG (no script, escaped labels)
"""
