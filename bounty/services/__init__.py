"""Use cases. One public function is one database transaction: (session, actor, ...) in,
commit once at the end. Permissions are checked here again, so CLI and API cannot skip
them. Never imports Flask; the actor is an argument.
"""
