"""GS1 EPCIS 2.0: identifiers, validation, capture (import), query and export."""
