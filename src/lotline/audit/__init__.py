"""The audit trail: reading it, recording events, and the reason for a change.

Row changes are captured by the database (migration 0023: ``lotline_audit_row`` triggers), so this
package never writes an entry for a row change itself; it only records *events* that change no row
(a refused sign-in, a bulk load) and sets ``lotline.reason`` for the changes that need one.
"""
