"""What each part of an uploaded workbook is, as the package itself declares it: its content type
(`[Content_Types].xml`) and the relationships that point at it (the `_rels/*.rels` parts).

That, not the part's name, decides how large a part may be: only parts declared as worksheets or
as the shared strings, and as nothing else, may be large; parts openpyxl reads by a fixed name
or by their content type (styles, workbook, properties, relationships) stay small whatever else
they claim to be. The same declarations show what a budget never needs and is refused whatever
its name: macros, ActiveX controls, embedded objects and files, links to other files or data
sources, and references to anything outside the archive.
"""

from __future__ import annotations

import posixpath
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from . import limits
from .limits import PartLimit, UploadRejected
from .parts import part_name

CONTENT_TYPES = "[Content_Types].xml"
RELS = re.compile(r"(?:^|/)_rels/[^/]*\.rels$", re.IGNORECASE)
# Parts openpyxl reads by their name, whatever the package says of them.
READ_BY_NAME = {
    "[content_types].xml",
    "xl/workbook.xml",
    "xl/styles.xml",
    "docprops/core.xml",
    "docprops/custom.xml",
    "xl/theme/theme1.xml",
}
SHARED_STRINGS_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedstrings+xml"
WORKSHEET_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
PLAIN_XML_TYPES = {"", "application/xml", "text/xml"}


@dataclass(frozen=True)
class Refused:
    """A kind of content a budget never needs, recognised by part name, content type or
    relationship type (all in lower case)."""

    code: str
    names: re.Pattern
    content_types: re.Pattern
    relationships: frozenset[str]


REFUSED = [
    Refused(
        "macros",
        re.compile(r"vbaproject|macrosheets/|dialogsheets/|attachedtoolbars"),
        re.compile(r"vbaproject|macroenabled|macrosheet|dialogsheet|toolbars"),
        frozenset({"vbaproject", "xlmacrosheet", "xlintlmacrosheet", "dialogsheet", "attachedtoolbars"}),
    ),
    Refused(
        "activex",
        re.compile(r"activex"),
        re.compile(r"activex"),
        frozenset({"control", "activexcontrolbinary"}),
    ),
    Refused(
        "embedded_file",
        re.compile(r"embeddings/"),
        re.compile(
            r"oleobject|(wordprocessingml\.document|presentationml\.presentation|spreadsheetml\.sheet)$"
        ),
        frozenset({"oleobject", "package"}),
    ),
    Refused(
        "external_link",
        re.compile(r"externallinks/|connections\.xml|querytables/"),
        re.compile(r"externallink|connections|querytable"),
        frozenset({"externallink", "externallinkpath", "connections", "querytable"}),
    ),
]


@dataclass(frozen=True)
class Relationship:
    source: str  # the rels part it was declared in
    type: str  # the last segment of its type URI, in lower case
    target: str  # resolved as openpyxl resolves it; the raw target when external
    external: bool


@dataclass
class Package:
    overrides: dict[str, str] = field(default_factory=dict)  # lower-case part name -> type
    defaults: dict[str, str] = field(default_factory=dict)  # lower-case extension -> type
    relationships: list[Relationship] = field(default_factory=list)

    def content_type(self, name: str) -> str:
        lower = name.lower()
        if lower in self.overrides:
            return self.overrides[lower]
        return self.defaults.get(posixpath.splitext(lower)[1].lstrip("."), "")

    def types_pointing_at(self, name: str) -> set[str]:
        lower = name.lower()
        return {r.type for r in self.relationships if not r.external and r.target.lower() == lower}

    def limit_for(self, name: str) -> PartLimit:
        """The strictest limit of every role the package gives the part (small when none)."""
        lower = name.lower()
        if lower in READ_BY_NAME or RELS.search(lower):
            return limits.OTHER
        roles = set()
        for kind in self.types_pointing_at(name):
            roles.add({"worksheet": "sheet", "sharedstrings": "strings", "image": "media"}.get(kind, "other"))
        content_type = self.content_type(name)
        if content_type == SHARED_STRINGS_TYPE:
            roles.add("strings")
        elif content_type == WORKSHEET_TYPE:
            roles.add("sheet")
        elif content_type.startswith("image/"):
            roles.add("media")
        elif content_type not in PLAIN_XML_TYPES:
            roles.add("other")
        chosen = [
            {"sheet": limits.SHEET, "strings": limits.SHARED_STRINGS, "media": limits.MEDIA}.get(
                role, limits.OTHER
            )
            for role in roles or {"other"}
        ]
        return PartLimit(bytes=min(c.bytes for c in chosen), markup=min(c.markup for c in chosen))


def local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def read_content_types(package: Package, text: str) -> None:
    for element in _elements(CONTENT_TYPES, text):
        content_type = (element.get("ContentType") or "").strip().lower()
        if local(element.tag) == "Override":
            package.overrides[(element.get("PartName") or "").lstrip("/").lower()] = content_type
        elif local(element.tag) == "Default":
            package.defaults[(element.get("Extension") or "").lower()] = content_type


def read_relationships(package: Package, rels_name: str, text: str) -> None:
    """The relationships of one rels part, their targets resolved as openpyxl resolves them
    (`openpyxl.packaging.relationship.get_dependents`)."""
    base = posixpath.split(posixpath.dirname(rels_name))[0]
    for element in _elements(rels_name, text):
        if local(element.tag) != "Relationship":
            continue
        kind = (element.get("Type") or "").rstrip("/").rsplit("/", 1)[-1].lower()
        target = element.get("Target") or ""
        external = (element.get("TargetMode") or "").lower() == "external"
        if not external:
            target = (
                target[1:] if target.startswith("/") else posixpath.normpath(posixpath.join(base, target))
            )
        package.relationships.append(Relationship(rels_name, kind, target, external))


def _elements(name: str, text: str):
    """The elements of a small part already checked by `parts.read_part` (no DTD, bounded size
    and depth), so the standard library parses it safely."""
    try:
        return ET.fromstring(text).iter()  # noqa: S314 - checked first: no DTD, small, shallow
    except ET.ParseError:
        raise UploadRejected(
            _("The file is damaged or is not an Excel workbook (.xlsx) (its part “%(part)s” cannot be read).")
            % {"part": part_name(name)},
            "damaged",
        ) from None


def check_declarations(package: Package, names: list[str]) -> None:
    """Refuse what a budget never needs, whatever the parts are called, and any reference to
    something outside the archive."""
    for rel in package.relationships:
        if rel.external and rel.type != "hyperlink":
            raise _refused("external_link")
        if not rel.external and (
            rel.target.startswith(("/", "../")) or rel.target == ".." or "\\" in rel.target
        ):
            raise UploadRejected(
                _(
                    "The file refers to “%(target)s”, outside the workbook, from its part "
                    "“%(part)s”: it was not opened. Save it again as “Excel Workbook (.xlsx)” and "
                    "upload that."
                )
                % {"target": part_name(rel.target), "part": part_name(rel.source)},
                "outside_reference",
            )
    declared_types = [*package.overrides.values(), *package.defaults.values()]
    rel_types = {r.type for r in package.relationships}
    lower_names = [n.lower() for n in names]
    for kind in REFUSED:
        if (
            rel_types & kind.relationships
            or any(kind.content_types.search(t) for t in declared_types)
            or any(kind.names.search(n) for n in lower_names)
        ):
            raise _refused(kind.code)


def _refused(code: str) -> UploadRejected:
    messages = {
        "macros": _(
            "This workbook contains macros, which are not accepted. Save it as “Excel Workbook "
            "(.xlsx)” (without macros) and upload that."
        ),
        "activex": _(
            "This workbook contains ActiveX controls, which are not accepted in a budget. Copy your "
            "lines (values only) into a new template and upload that."
        ),
        "embedded_file": _(
            "This workbook contains embedded objects or files, which are not accepted in a budget. "
            "Copy your lines (values only) into a new template and upload that."
        ),
        "external_link": _(
            "This workbook links to other files or data sources, which is not accepted in a budget. "
            "Copy your lines (values only) into a new template and upload that."
        ),
    }
    return UploadRejected(messages[code], code)
