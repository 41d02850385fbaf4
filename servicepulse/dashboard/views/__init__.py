"""Signed-in pages. Each view states the least role it needs through `servicepulse.accounts.roles`."""
