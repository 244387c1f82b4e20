"""Identity and access: users, roles, permissions, passwords, API tokens, web sessions, signatures.

- ``permissions``: the one table permission -> roles, and ``check(principal, permission)``.
- ``passwords``: Argon2id hashing (argon2-cffi), minimum length, a dummy verification for unknown
  names so that they cost the same as a wrong password.
- ``service``: users, roles, tokens and sessions over a session (never commits), and the
  ``Principal`` every entrypoint resolves before any service runs.
- ``signatures``: electronic signatures (21 CFR 11.50/11.70/11.200) re-checking the signer's password
  inside the transaction of the signed change.

Invariants: no secret is stored or logged in clear (tokens and session cookies only as SHA-256,
passwords only as Argon2id); an unknown name, a wrong password, a locked and a disabled account give
the same answer; every refusal of a credential is audited.
"""
