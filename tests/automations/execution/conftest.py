"""Restricted items are shown on the review pages: their tests share the review pages' world."""
from tests.reviews.world import world  # noqa: F401
