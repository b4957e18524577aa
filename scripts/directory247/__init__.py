"""directory247: the data-as-code Directory of 24/7 contact points (CETS 185, Art. 35).

The package reads as its pipeline, one folder per stage: ``entry`` (strict YAML, schema,
rules, model) -> ``trust`` (OpenPGP acceptance policy, keys, authorisations) -> ``gate``
(the pull-request gate and the release verb's core) -> ``formats`` (exports) -> ``release``
(cut, manifest, user verification) -> ``site`` (pages, MkDocs, offline bundle), with
``freshness`` beside them and ``publish`` (atomic files) below. ``cli`` is the only module
that prints or exits; docs/architecture.md draws it.
"""

__version__ = "0.1.0"
