"""The DCO sign-off checker: pure rules of DCO.md, standard library only.

- `rules`: Commit, the verdicts, DcoChecker (bot patterns are configuration), the sign-off scan.
- `email`: the e-mail check of the reference app (npm email-validator 2.0.4).
- `inputs`: the JSON shapes `bounty dco check --input` reads (a dataset or a list of commits).
- `report`: running the checker over an input; the JSON report and the plain-text table.
"""
