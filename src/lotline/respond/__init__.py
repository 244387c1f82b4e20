"""The public recall response page (21 CFR 7.49 "a ready means" to report): /respond/{token}.

No sign-in: the unguessable token in the link is the credential, and the page shows nothing but
what that consignee received of the recalled products. Every submission is a new response
(append-only); naming sub-accounts makes them consignees at the next depth (sub-recall).
"""
