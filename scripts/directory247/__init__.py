"""directory247: the data-as-code Directory of 24/7 contact points (CETS 185, Art. 35).

The package reads as its pipeline: ``loader`` (strict YAML) -> ``validation``
(schema + semantic rules) -> ``trust`` (OpenPGP acceptance policy) ->
``model`` (typed entries) -> formats (exports) and pages -> ``publish`` (atomic files).
``cli`` is the only module that prints or exits.
"""

__version__ = "0.1.0"
