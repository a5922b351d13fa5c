"""The DCO sign-off checker: pure rules of DCO.md, standard library only."""
