"""Releases: the pipeline that cuts one, its manifest, and the user's verification."""
