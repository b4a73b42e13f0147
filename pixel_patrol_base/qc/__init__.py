"""QC verdicts: rules as data, judged on the report table alone (no image is read).

Public surface::

    rules = load_rules("my_rules.yaml")      # built-ins + the user's file (None: built-ins)
    result = evaluate(table, rules, group_by="imported_path_short")
    table = result.annotate(table)            # + qc_status, qc_issues, qc_levels, qc_messages
    footer = result.footer()                  # JSON-ready group/dataset verdicts, counts
    line = summary_text(result)               # "QC: 41 pass, 6 warn (4 blurry, 2 dark), ..."

``expr`` is the safe expression language, ``rule`` the rule model, ``rulefile`` the
YAML format, ``engine`` the evaluation, ``result`` what comes out; ``junit`` writes
results as JUnit XML and ``suggest`` a starter rules file from a known-good report
(both for ``pixel-patrol check``). The format is
documented in ``docs/rules.md``; the packaged rules are ``rules/builtin.yaml``.
"""

from pixel_patrol_base.qc.engine import evaluate
from pixel_patrol_base.qc.expr import parse as parse_expression
from pixel_patrol_base.qc.result import QcResult, summary_counts, summary_text
from pixel_patrol_base.qc.rule import Rule, Scope, build_rule
from pixel_patrol_base.qc.rulefile import RuleSet, builtin_rules, load_rules, parse_rules
from pixel_patrol_base.qc.verdicts import STATUSES

__all__ = [
    "STATUSES",
    "QcResult",
    "Rule",
    "RuleSet",
    "Scope",
    "build_rule",
    "builtin_rules",
    "evaluate",
    "load_rules",
    "parse_expression",
    "parse_rules",
    "summary_counts",
    "summary_text",
]
