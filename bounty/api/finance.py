"""The API of finance."""

from __future__ import annotations

from flask_smorest import Blueprint

blp = Blueprint("api_finance", __name__,
                description="Finance: payout batches, exports, bank confirmations, statements.")
