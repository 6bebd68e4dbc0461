"""Rule-based event extraction: rules and lexicons are data (configs/), this
package compiles them once (``compile_ruleset`` / ``loader.load_ruleset``) and
applies them with the pure function ``extract``."""

from extractors.compiler import RuleSet, compile_ruleset
from extractors.engine import extract
from extractors.errors import RuleFileError

__all__ = ["RuleFileError", "RuleSet", "compile_ruleset", "extract"]
