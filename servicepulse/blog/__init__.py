"""The leader's blog: posts, threaded comments with moderation and spam layers, linkbacks (Pingback 1.0 at
/xmlrpc/, Trackback 1.2, Webmention), Atom/RSS feeds, and the WordPress importer.

Public entry points for other apps: `services.post_create_draft`, `services.post_create`,
`services.blog_demo_load`; moderators' decisions for retraining the spam head are `models.ModerationDecision`
(read through `selectors.moderation_decisions_for_training`).
"""
