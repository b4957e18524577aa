"""The release-key fingerprint shipped with the tool: what ``directory247 verify`` trusts.

A user who installed this tool trusts exactly this fingerprint to sign releases (or the one
they give with ``--fingerprint``, read from the site or the docs). The key *material* may
come from anywhere, the release folder included, because only a key with this fingerprint
can make a signature that ``verify`` accepts.

Today this is the DEMONSTRATION release key (``release_keys`` in ``keys/authorisations.yaml``,
secret half committed in ``demo-keys/release.asc``): it proves the mechanics, never the data.
A production build replaces the value below with the production release key's fingerprint,
published in ``docs/verify.md`` and on the site. Changing it is a deliberate, reviewed edit.
"""

from __future__ import annotations

import datetime as dt

#: Primary fingerprint of the release key, upper-case hex without spaces.
RELEASE_KEY_FINGERPRINT = "01A8646270EAE09CB081EB1B5C4B354E2CC6418E"

#: Whether the pinned key is a public demonstration key (anyone holds its secret half).
RELEASE_KEY_IS_DEMO = True

#: How long a release is valid after it is released (freeze protection: the Secretariat must
#: cut a release at least this often, and users notice a directory that stopped being published).
RELEASE_VALIDITY = dt.timedelta(days=45)

#: The longest validity a release may claim, checked by ``verify`` on the user's side: a
#: manifest signed by the release key but claiming to be valid for longer is refused, so a
#: leaked or misused release key cannot make one old release live for years.
MAX_RELEASE_VALIDITY = dt.timedelta(days=45)
