"""Pure rules of the programme's governance: who may do what, reviews and votes.

Standard library only.
"""
