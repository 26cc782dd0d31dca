"""`healthmon digest`: per CSM, the accounts that moved down the most, those now at risk, and what recovered."""

from healthmon.digest.report import AccountDays, CsmDigest, Move, build_digests
from healthmon.digest.webhook import WebhookError, post_webhook

__all__ = ["AccountDays", "CsmDigest", "Move", "WebhookError", "build_digests", "post_webhook"]
