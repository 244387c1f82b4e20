"""EPCIS 2.0 JSON(-LD) validation: lotline's own checker of the GS1 schema's rules.

No maintained Python package validates EPCIS 2.0, so this module states the rules of the GS1 JSON schema
(EPCIS-JSON-Schema.json, draft-07) as code: the document and header (required members, ``@context``,
version, creation date, master data vocabularies) and every event (common members, the five standard event
types' members and their "at least one of" rules, CBV vocabularies — bizStep, disposition, business
transaction, source/destination and error-reason types, sensor measurement types — or a non-CBV URI for
them, value types and formats: RFC 3339 date-times, RFC 3986 URIs, time-zone offsets, Rec 20 unit codes).
Members outside the standard are allowed only as extension URIs/CURIEs (``example:myField``).

``document_problems(header)`` and ``event_problems(event)`` return every problem found, as messages that
name the member (``quantityList[0].quantity: 'twenty' is not a number``); empty means valid. The test suite
checks this module against the GS1 schema itself (with ``jsonschema``) on the shared documents and on
mutations of them.
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from typing import Any

URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/?#\[\]]|%[0-9A-Fa-f]{2})*$")
DATE_TIME = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-](\d{2}):(\d{2}))$"
)
TZ_OFFSET = re.compile(r"^([+]|[-])((0[0-9]|1[0-3]):([0-5][0-9])|14:00)$")
UOM = re.compile(r"^[A-Z0-9]{2,3}$")
VERSION = re.compile(r"^\d+(\.\d+)*$")
HEX = re.compile(r"^[A-Fa-f0-9]+$")
CBV_URI = re.compile(r"^(urn:epcglobal:cbv|https?://ns\.gs1\.org/cbv/)")
GS1_VOC = re.compile(r"^(https?://gs1\.org/voc/|https?://www\.gs1\.org/voc/)")

ACTIONS = ("OBSERVE", "ADD", "DELETE")
BIZ_STEPS = frozenset(
    ["accepting", "arriving", "assembling", "collecting", "commissioning", "consigning", "creating_class_instance", "cycle_counting", "decommissioning", "departing", "destroying", "disassembling", "dispensing", "encoding", "entering_exiting", "holding", "inspecting", "installing", "killing", "loading", "other", "packing", "picking", "receiving", "removing", "repackaging", "repairing", "replacing", "reserving", "retail_selling", "shipping", "staging_outbound", "stock_taking", "stocking", "storing", "transporting", "unloading", "unpacking", "void_shipping", "sensor_reporting", "sampling"]
)
DISPOSITIONS = frozenset(
    ["active", "container_closed", "damaged", "destroyed", "dispensed", "disposed", "encoded", "expired", "in_progress", "in_transit", "inactive", "no_pedigree_match", "non_sellable_other", "partially_dispensed", "recalled", "reserved", "retail_sold", "returned", "sellable_accessible", "sellable_not_accessible", "stolen", "unknown", "available", "completeness_verified", "completeness_inferred", "conformant", "container_open", "mismatch_instance", "mismatch_class", "mismatch_quantity", "needs_replacement", "non_conformant", "unavailable"]
)
BIZ_TRANSACTION_TYPES = frozenset(["bol", "cert", "desadv", "inv", "pedigree", "po", "poc", "prodorder", "recadv", "rma", "testprd", "testres", "upevt"])
SOURCE_DEST_TYPES = frozenset(("owning_party", "possessing_party", "location"))
ERROR_REASONS = frozenset(("did_not_occur", "incorrect_data"))
MEASUREMENT_TYPES = frozenset(
    ["AbsoluteHumidity", "AbsorbedDose", "AbsorbedDoseRate", "Acceleration", "Radioactivity", "Altitude", "AmountOfSubstance", "AmountOfSubstancePerUnitVolume", "Angle", "AngularAcceleration", "AngularMomentum", "AngularVelocity", "Area", "Capacitance", "Conductance", "Conductivity", "Count", "Density", "Dimensionless", "DoseEquivalent", "DoseEquivalentRate", "DynamicViscosity", "ElectricCharge", "ElectricCurrent", "ElectricCurrentDensity", "ElectricFieldStrength", "Energy", "Exposure", "Force", "Frequency", "Illuminance", "Inductance", "Irradiance", "KinematicViscosity", "Length", "LinearMomentum", "Luminance", "LuminousFlux", "LuminousIntensity", "MagneticFlux", "MagneticFluxDensity", "MagneticVectorPotential", "Mass", "MassConcentration", "MassFlowRate", "MassPerAreaTime", "MemoryCapacity", "MolalityOfSolute", "MolarEnergy", "MolarMass", "MolarVolume", "Power", "Pressure", "RadiantFlux", "RadiantIntensity", "RelativeHumidity", "Resistance", "Resistivity", "SolidAngle", "SpecificVolume", "Speed", "SurfaceDensity", "SurfaceTension", "Temperature", "Time", "Torque", "Voltage", "Volume", "VolumeFlowRate", "VolumeFraction", "VolumetricFlux", "Wavenumber"]
)
SENSOR_ALERTS = frozenset(("ALARM_CONDITION", "ERROR_CONDITION"))
COMPONENTS = frozenset(
    ["x", "y", "z", "axial_distance", "azimuth", "height", "spherical_radius", "polar_angle", "elevation_angle", "easting", "northing", "latitude", "longitude", "altitude"]
)
STANDARD_EVENT_TYPES = ("ObjectEvent", "AggregationEvent", "TransactionEvent", "TransformationEvent", "AssociationEvent")

COMMON = frozenset(
    ("@context", "type", "eventTime", "recordTime", "eventTimeZoneOffset", "eventID", "certificationInfo", "errorDeclaration")
)
_WHERE = ("readPoint", "bizLocation", "bizTransactionList", "sourceList", "destinationList", "sensorElementList")
MEMBERS = {
    "ObjectEvent": frozenset(("action", "epcList", "quantityList", "bizStep", "disposition", "persistentDisposition", "ilmd", *_WHERE)),
    "AggregationEvent": frozenset(("parentID", "childEPCs", "childQuantityList", "action", "bizStep", "disposition", *_WHERE)),
    "TransactionEvent": frozenset(("parentID", "epcList", "quantityList", "action", "bizStep", "disposition", *_WHERE)),
    "TransformationEvent": frozenset(
        (
            "inputEPCList", "inputQuantityList", "outputEPCList", "outputQuantityList", "transformationID", "bizStep",
            "disposition", "persistentDisposition", "ilmd", *_WHERE,
        )
    ),
    "AssociationEvent": frozenset(("parentID", "childEPCs", "childQuantityList", "action", "bizStep", "disposition", *_WHERE)),
}
DOCUMENT_MEMBERS = frozenset(
    ("@context", "id", "type", "schemaVersion", "creationDate", "instanceIdentifier", "sender", "receiver", "epcisHeader", "epcisBody")
)
SENSOR_METADATA = frozenset(("time", "deviceID", "deviceMetadata", "rawData", "startTime", "endTime", "dataProcessingMethod", "bizRules"))
SENSOR_REPORT_URIS = frozenset(
    ("deviceID", "deviceMetadata", "rawData", "dataProcessingMethod", "bizRules", "microorganism", "chemicalSubstance",
     "coordinateReferenceSystem", "uriValue")
)
SENSOR_REPORT_NUMBERS = frozenset(("value", "minValue", "maxValue", "meanValue", "sDev", "percRank", "percValue"))
SENSOR_REPORT = SENSOR_REPORT_URIS | SENSOR_REPORT_NUMBERS | {
    "type", "exception", "time", "component", "stringValue", "booleanValue", "hexBinaryValue", "uom",
}


def is_uri(value: Any) -> bool:
    return isinstance(value, str) and URI.match(value) is not None


def is_date_time(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    m = DATE_TIME.match(value)
    if not m:
        return False
    y, mo, d, h, mi, s = (int(m.group(i)) for i in range(1, 7))
    try:
        datetime(y, mo, d, h, mi, min(s, 59))
    except ValueError:
        return False
    if m.group(9) is not None and (int(m.group(9)) > 23 or int(m.group(10)) > 59):
        return False
    return s <= 60


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


class _Checker:
    def __init__(self) -> None:
        self.problems: list[str] = []

    def add(self, path: str, message: str) -> None:
        self.problems.append(f"{path}: {message}" if path else message)

    def obj(self, path: str, value: Any) -> bool:
        if not isinstance(value, dict):
            self.add(path, f"must be an object, got {_show(value)}")
            return False
        return True

    def array(self, path: str, value: Any, *, min_items: int = 0, unique: bool = False) -> bool:
        if not isinstance(value, list):
            self.add(path, f"must be an array, got {_show(value)}")
            return False
        if len(value) < min_items:
            self.add(path, f"must hold at least {min_items} item(s)")
        if unique:
            seen: set[str] = set()
            for v in value:
                key = repr(v)
                if key in seen:
                    self.add(path, f"lists {_show(v)} twice (items must be unique)")
                    break
                seen.add(key)
        return True

    def uri(self, path: str, value: Any) -> None:
        if not is_uri(value):
            self.add(path, f"{_show(value)} is not a URI")

    def time(self, path: str, value: Any) -> None:
        if not is_date_time(value):
            self.add(path, f"{_show(value)} is not an RFC 3339 date-time (like 2026-01-05T08:00:00Z)")

    def names(self, path: str, value: dict, allowed: frozenset[str]) -> None:
        for key in value:
            if key not in allowed and not is_uri(key):
                where = f"{path}." if path else ""
                self.add(f"{where}{key}", "is not a member of this object and not an extension URI (prefix:name)")

    def vocab(self, path: str, value: Any, words: frozenset[str], what: str, *, forbid: re.Pattern = CBV_URI) -> None:
        if isinstance(value, str) and value in words:
            return
        if is_uri(value) and not forbid.match(value):
            return
        self.add(path, f"{_show(value)} is not a standard {what} nor a non-CBV URI")

    # --- pieces ----------------------------------------------------------------------------------

    def context(self, path: str, value: Any) -> None:
        if isinstance(value, str):
            self.uri(path, value)
        elif isinstance(value, list):
            self.array(path, value, unique=True)
            for i, v in enumerate(value):
                if not isinstance(v, dict):
                    self.uri(f"{path}[{i}]", v)
        elif not isinstance(value, dict):
            self.add(path, f"must be a URI, an object or an array of them, got {_show(value)}")

    def epc_list(self, path: str, value: Any, *, min_items: int = 0, unique: bool = True) -> None:
        if self.array(path, value, min_items=min_items, unique=unique):
            for i, v in enumerate(value):
                self.uri(f"{path}[{i}]", v)

    def quantity_list(self, path: str, value: Any, *, min_items: int = 0) -> None:
        if not self.array(path, value, min_items=min_items):
            return
        for i, q in enumerate(value):
            p = f"{path}[{i}]"
            if not self.obj(p, q):
                continue
            for key in q:
                if key not in ("epcClass", "quantity", "uom"):
                    self.add(f"{p}.{key}", "is not a member of a quantity element (epcClass, quantity, uom)")
            if "epcClass" not in q:
                self.add(p, "epcClass is required")
            else:
                self.uri(f"{p}.epcClass", q["epcClass"])
            if "quantity" in q and not is_number(q["quantity"]):
                self.add(f"{p}.quantity", f"{_show(q['quantity'])} is not a number")
            if "uom" in q and not (isinstance(q["uom"], str) and UOM.match(q["uom"])):
                self.add(f"{p}.uom", f"{_show(q['uom'])} is not a UN/ECE Rec 20 code (2-3 capitals or digits)")

    def point(self, path: str, value: Any) -> None:
        if self.obj(path, value):
            if "id" not in value:
                self.add(path, "id is required")
            else:
                self.uri(f"{path}.id", value["id"])

    def biz_transactions(self, path: str, value: Any, *, min_items: int = 0) -> None:
        if not self.array(path, value, min_items=min_items):
            return
        for i, bt in enumerate(value):
            p = f"{path}[{i}]"
            if not self.obj(p, bt):
                continue
            for key in bt:
                if key not in ("type", "bizTransaction"):
                    self.add(f"{p}.{key}", "is not a member of a business transaction (type, bizTransaction)")
            if "bizTransaction" not in bt:
                self.add(p, "bizTransaction is required")
            else:
                self.uri(f"{p}.bizTransaction", bt["bizTransaction"])
            if "type" in bt:
                self.vocab(f"{p}.type", bt["type"], BIZ_TRANSACTION_TYPES, "business transaction type")

    def sources(self, path: str, value: Any, member: str) -> None:
        if not self.array(path, value):
            return
        for i, s in enumerate(value):
            p = f"{path}[{i}]"
            if not self.obj(p, s):
                continue
            for key in s:
                if key not in ("type", member):
                    self.add(f"{p}.{key}", f"is not a member of a {member} (type, {member})")
            for key in ("type", member):
                if key not in s:
                    self.add(p, f"{key} is required")
            if "type" in s:
                self.vocab(f"{p}.type", s["type"], SOURCE_DEST_TYPES, f"{member} type")
            if member in s:
                self.uri(f"{p}.{member}", s[member])

    def persistent_disposition(self, path: str, value: Any) -> None:
        if not self.obj(path, value):
            return
        for key in value:
            if key not in ("set", "unset"):
                self.add(f"{path}.{key}", "is not a member of persistentDisposition (set, unset)")
        if "set" not in value and "unset" not in value:
            self.add(path, "needs set or unset")
        for key in ("set", "unset"):
            if key in value and self.array(f"{path}.{key}", value[key], min_items=1, unique=True):
                for i, d in enumerate(value[key]):
                    self.vocab(f"{path}.{key}[{i}]", d, DISPOSITIONS, "disposition")

    def error_declaration(self, path: str, value: Any) -> None:
        if not self.obj(path, value):
            return
        self.names(path, value, frozenset(("declarationTime", "reason", "correctiveEventIDs")))
        if "declarationTime" not in value:
            self.add(path, "declarationTime is required")
        else:
            self.time(f"{path}.declarationTime", value["declarationTime"])
        if "reason" in value:
            self.vocab(f"{path}.reason", value["reason"], ERROR_REASONS, "error reason")
        if "correctiveEventIDs" in value and self.array(f"{path}.correctiveEventIDs", value["correctiveEventIDs"]):
            for i, v in enumerate(value["correctiveEventIDs"]):
                self.uri(f"{path}.correctiveEventIDs[{i}]", v)

    def sensors(self, path: str, value: Any, *, min_items: int = 0) -> None:
        if not self.array(path, value, min_items=min_items):
            return
        for i, el in enumerate(value):
            p = f"{path}[{i}]"
            if not self.obj(p, el):
                continue
            self.names(p, el, frozenset(("sensorMetadata", "sensorReport")))
            meta = el.get("sensorMetadata")
            if meta is not None and self.obj(f"{p}.sensorMetadata", meta):
                self.names(f"{p}.sensorMetadata", meta, SENSOR_METADATA)
                for key in ("time", "startTime", "endTime"):
                    if key in meta:
                        self.time(f"{p}.sensorMetadata.{key}", meta[key])
                for key in ("deviceID", "deviceMetadata", "rawData", "dataProcessingMethod", "bizRules"):
                    if key in meta:
                        self.uri(f"{p}.sensorMetadata.{key}", meta[key])
            if "sensorReport" not in el:
                self.add(p, "sensorReport is required")
                continue
            if not self.array(f"{p}.sensorReport", el["sensorReport"], min_items=1):
                continue
            for j, rep in enumerate(el["sensorReport"]):
                self.sensor_report(f"{p}.sensorReport[{j}]", rep)

    def sensor_report(self, p: str, rep: Any) -> None:
        if not self.obj(p, rep):
            return
        self.names(p, rep, SENSOR_REPORT)
        if "type" not in rep:
            self.add(p, "type is required")
        else:
            self.vocab(f"{p}.type", rep["type"], MEASUREMENT_TYPES, "measurement type", forbid=GS1_VOC)
        if "exception" in rep:
            self.vocab(f"{p}.exception", rep["exception"], SENSOR_ALERTS, "sensor alert type", forbid=GS1_VOC)
        if "component" in rep:
            self.vocab(f"{p}.component", rep["component"], COMPONENTS, "component")
        if "time" in rep:
            self.time(f"{p}.time", rep["time"])
        for key in SENSOR_REPORT_URIS & rep.keys():
            self.uri(f"{p}.{key}", rep[key])
        for key in SENSOR_REPORT_NUMBERS & rep.keys():
            if not is_number(rep[key]):
                self.add(f"{p}.{key}", f"{_show(rep[key])} is not a number")
        for key in ("stringValue", "uom"):
            if key in rep and not isinstance(rep[key], str):
                self.add(f"{p}.{key}", f"{_show(rep[key])} is not a string")
        if "booleanValue" in rep and not isinstance(rep["booleanValue"], bool):
            self.add(f"{p}.booleanValue", f"{_show(rep['booleanValue'])} is not a boolean")
        if "hexBinaryValue" in rep and not (isinstance(rep["hexBinaryValue"], str) and HEX.match(rep["hexBinaryValue"])):
            self.add(f"{p}.hexBinaryValue", f"{_show(rep['hexBinaryValue'])} is not hexadecimal")


def event_problems(event: Any) -> list[str]:
    """Every way ``event`` breaks the EPCIS 2.0 schema (empty when it is valid)."""
    c = _Checker()
    if not c.obj("", event):
        return c.problems
    etype = event.get("type")
    if not isinstance(etype, str):
        c.add("type", "is required and must be a string (ObjectEvent, TransformationEvent, ...)")
        return c.problems
    for key in ("eventTime", "eventTimeZoneOffset"):
        if key not in event:
            c.add("", f"{key} is required")
    if "eventTime" in event:
        c.time("eventTime", event["eventTime"])
    if "recordTime" in event:
        c.time("recordTime", event["recordTime"])
    if "eventTimeZoneOffset" in event and not (
        isinstance(event["eventTimeZoneOffset"], str) and TZ_OFFSET.match(event["eventTimeZoneOffset"])
    ):
        c.add("eventTimeZoneOffset", f"{_show(event['eventTimeZoneOffset'])} is not an offset like +02:00")
    if "eventID" in event:
        c.uri("eventID", event["eventID"])
    if "@context" in event:
        c.context("@context", event["@context"])
    if "certificationInfo" in event:
        ci = event["certificationInfo"]
        if isinstance(ci, list):
            for i, v in enumerate(ci):
                c.uri(f"certificationInfo[{i}]", v)
        else:
            c.uri("certificationInfo", ci)
    if "errorDeclaration" in event:
        c.error_declaration("errorDeclaration", event["errorDeclaration"])
    if etype not in MEMBERS:
        if not is_uri(etype):
            c.add("type", f"{_show(etype)} is not an EPCIS event type ({', '.join(STANDARD_EVENT_TYPES)}) nor an extension URI")
        return c.problems

    c.names("", event, COMMON | MEMBERS[etype])
    if "action" in MEMBERS[etype]:
        if "action" not in event:
            c.add("", "action is required (OBSERVE, ADD or DELETE)")
        elif event["action"] not in ACTIONS:
            c.add("action", f"{_show(event['action'])} is not one of OBSERVE, ADD, DELETE")
    if "bizStep" in event:
        c.vocab("bizStep", event["bizStep"], BIZ_STEPS, "CBV bizStep")
    if "disposition" in event:
        c.vocab("disposition", event["disposition"], DISPOSITIONS, "CBV disposition")
    if "persistentDisposition" in event:
        c.persistent_disposition("persistentDisposition", event["persistentDisposition"])
    for key in ("readPoint", "bizLocation"):
        if key in event:
            c.point(key, event[key])
    if "bizTransactionList" in event:
        c.biz_transactions("bizTransactionList", event["bizTransactionList"], min_items=1 if etype == "TransactionEvent" else 0)
    elif etype == "TransactionEvent":
        c.add("", "bizTransactionList is required in a TransactionEvent")
    if "sourceList" in event:
        c.sources("sourceList", event["sourceList"], "source")
    if "destinationList" in event:
        c.sources("destinationList", event["destinationList"], "destination")
    if "sensorElementList" in event:
        c.sensors("sensorElementList", event["sensorElementList"])
    if "ilmd" in event and c.obj("ilmd", event["ilmd"]):
        for key in event["ilmd"]:
            if not is_uri(key):
                c.add(f"ilmd.{key}", "ILMD members must be URIs or CURIEs (prefix:name)")
    if "parentID" in event:
        c.uri("parentID", event["parentID"])
    if etype == "AssociationEvent" and "parentID" not in event:
        c.add("", "parentID is required in an AssociationEvent")
    if "transformationID" in event:
        c.uri("transformationID", event["transformationID"])
    for key in ("epcList", "childEPCs", "inputEPCList", "outputEPCList"):
        if key in event:
            # the schema makes ObjectEvent and TransformationEvent EPC lists unique, not the others
            c.epc_list(key, event[key], unique=etype in ("ObjectEvent", "TransformationEvent"))
    for key in ("quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList"):
        if key in event:
            c.quantity_list(key, event[key])
    _identifier_rules(c, etype, event)
    return c.problems


def _nonempty(event: dict, key: str) -> bool:
    return isinstance(event.get(key), list) and len(event[key]) >= 1


def _identifier_rules(c: _Checker, etype: str, event: dict) -> None:
    action = event.get("action")
    if etype == "ObjectEvent":
        sensors_only = _nonempty(event, "sensorElementList") and "readPoint" in event
        if "epcList" not in event and not _nonempty(event, "quantityList") and not sensors_only:
            c.add("", "an ObjectEvent needs an epcList or a non-empty quantityList (or sensor data with a readPoint)")
        if "ilmd" in event and action in ("OBSERVE", "DELETE"):
            c.add("ilmd", f"only an ADD ObjectEvent may carry ILMD, this one is {action}")
    elif etype in ("AggregationEvent", "AssociationEvent"):
        if action != "DELETE" and not _nonempty(event, "childEPCs") and not _nonempty(event, "childQuantityList"):
            c.add("", f"an {etype} needs childEPCs or childQuantityList unless its action is DELETE")
    elif etype == "TransactionEvent":
        if action != "DELETE" and "epcList" not in event and not _nonempty(event, "quantityList"):
            c.add("", "a TransactionEvent needs an epcList or a quantityList unless its action is DELETE")
    elif etype == "TransformationEvent":
        has_in = _nonempty(event, "inputEPCList") or _nonempty(event, "inputQuantityList")
        has_out = _nonempty(event, "outputEPCList") or _nonempty(event, "outputQuantityList")
        if not (has_in and has_out) and not ((has_in or has_out) and "transformationID" in event):
            c.add("", "a TransformationEvent needs inputs and outputs (or a transformationID with either)")


def document_problems(header: Any) -> list[str]:
    """Every way the document (without its event list) breaks the schema; ``header`` holds its top-level members."""
    c = _Checker()
    if not c.obj("document", header):
        return c.problems
    if header.get("type") != "EPCISDocument":
        c.add("type", f"{_show(header.get('type'))} is not EPCISDocument (lotline captures EPCIS documents)")
        return c.problems
    c.names("", header, DOCUMENT_MEMBERS)
    for key in ("@context", "schemaVersion", "creationDate"):
        if key not in header:
            c.add("", f"{key} is required")
    if "@context" in header:
        c.context("@context", header["@context"])
    if "schemaVersion" in header and not (isinstance(header["schemaVersion"], str) and VERSION.match(header["schemaVersion"])):
        c.add("schemaVersion", f"{_show(header['schemaVersion'])} is not a version like 2.0")
    if "creationDate" in header:
        c.time("creationDate", header["creationDate"])
    if "id" in header:
        c.uri("id", header["id"])
    for key in ("instanceIdentifier", "sender", "receiver"):
        if key in header and not isinstance(header[key], str):
            c.add(key, f"{_show(header[key])} is not a string")
    if "epcisHeader" in header and c.obj("epcisHeader", header["epcisHeader"]):
        eh = header["epcisHeader"]
        c.names("epcisHeader", eh, frozenset(("epcisMasterData",)))
        md = eh.get("epcisMasterData")
        if md is not None and c.obj("epcisHeader.epcisMasterData", md) and "vocabularyList" in md:
            _vocabularies(c, "epcisHeader.epcisMasterData.vocabularyList", md["vocabularyList"])
    return c.problems


def _vocabularies(c: _Checker, path: str, value: Any) -> None:
    if not c.array(path, value):
        return
    for i, voc in enumerate(value):
        p = f"{path}[{i}]"
        if not c.obj(p, voc):
            continue
        if "type" not in voc:
            c.add(p, "type is required")
        else:
            c.uri(f"{p}.type", voc["type"])
        elements = voc.get("vocabularyElementList", [])
        if not c.array(f"{p}.vocabularyElementList", elements):
            continue
        for j, el in enumerate(elements):
            q = f"{p}.vocabularyElementList[{j}]"
            if not c.obj(q, el):
                continue
            if "id" not in el:
                c.add(q, "id is required")
            else:
                c.uri(f"{q}.id", el["id"])
            if "attributes" in el and c.array(f"{q}.attributes", el["attributes"]):
                for k, attr in enumerate(el["attributes"]):
                    r = f"{q}.attributes[{k}]"
                    if c.obj(r, attr):
                        if "id" not in attr:
                            c.add(r, "id is required")
                        else:
                            c.uri(f"{r}.id", attr["id"])
                        if "attribute" in attr and not (
                            is_number(attr["attribute"]) or isinstance(attr["attribute"], (str, dict))
                        ):
                            c.add(f"{r}.attribute", f"{_show(attr['attribute'])} must be a number, string or object")
            if "children" in el and c.array(f"{q}.children", el["children"]):
                for k, child in enumerate(el["children"]):
                    c.uri(f"{q}.children[{k}]", child)
