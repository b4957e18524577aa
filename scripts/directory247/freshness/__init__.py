"""Freshness: confirmation standing, the stale report, the Secretariat's reachability records."""
