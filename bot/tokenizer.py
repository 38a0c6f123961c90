"""A SudachiPy tokenizer for Rasa 3.6 (runs in .venv-rasa, Python 3.10).

Tokens keep the resident's own text (``Token.text`` is the surface string and ``start``/
``end`` are character offsets into the original message; no NFKC or other rewriting is
applied to the text), while ``Token.lemma`` is Sudachi's normalized form, so that 子供,
こども and ｺﾄﾞﾓ, or 申込み and 申し込み, share one lemma for the featurizers that use lemmas
(CountVectorsFeaturizer's ``use_lemma``, on by default). Whitespace is not a token.

Config (all optional):
    split_mode: "A", "B" or "C" (default "C": the longest units, e.g. 認知症).
    dictionary: Sudachi dictionary edition, a sudachidict package ("core", the default).
plus the usual tokenizer options (intent_tokenization_flag, intent_split_symbol,
token_pattern, prefix_separator_symbol).
"""

from __future__ import annotations

import threading
from typing import Any

from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.tokenizers.tokenizer import Token, Tokenizer
from rasa.shared.nlu.training_data.message import Message
from sudachipy import Dictionary, SplitMode

_SPLIT_MODES = {"A": SplitMode.A, "B": SplitMode.B, "C": SplitMode.C}

# Sudachi refuses input over 49,149 UTF-8 bytes; longer texts are tokenized in chunks of at
# most this many characters (at most 4 bytes each), cut after a line break, 。 or space.
_CHUNK_CHARS = 4096
_CUT_AFTER = "\n。．！？!?　 "


def _chunks(text: str) -> list[tuple[int, str]]:
    """Splits ``text`` into (offset, chunk) pieces small enough for Sudachi."""
    pieces = []
    start = 0
    while len(text) - start > _CHUNK_CHARS:
        window = text[start : start + _CHUNK_CHARS]
        cut = max(window.rfind(ch) for ch in _CUT_AFTER) + 1
        if cut <= 0:
            cut = _CHUNK_CHARS
        pieces.append((start, window[:cut]))
        start += cut
    pieces.append((start, text[start:]))
    return pieces


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER], is_trainable=False)
class SudachiTokenizer(Tokenizer):
    """Japanese tokenizer on SudachiPy; lemma = Sudachi's normalized form."""

    @staticmethod
    def supported_languages() -> list[str] | None:
        return ["ja"]

    @staticmethod
    def required_packages() -> list[str]:
        return ["sudachipy", "sudachidict_core"]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            "split_mode": "C",
            "dictionary": "core",
            # the options every Rasa tokenizer has
            "intent_tokenization_flag": False,
            "intent_split_symbol": "_",
            "token_pattern": None,
            "prefix_separator_symbol": None,
        }

    def __init__(self, config: dict[str, Any]) -> None:
        config = {**self.get_default_config(), **config}
        super().__init__(config)
        mode = str(config["split_mode"]).upper()
        if mode not in _SPLIT_MODES:
            raise ValueError(f"SudachiTokenizer: split_mode must be A, B or C, not {mode!r}")
        self.split_mode = _SPLIT_MODES[mode]
        self._dictionary = Dictionary(dict=config["dictionary"])
        # A Sudachi tokenizer object must not be used by two threads at once.
        self._local = threading.local()

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SudachiTokenizer:
        return cls(config)

    def _sudachi(self) -> Any:
        tok = getattr(self._local, "tokenizer", None)
        if tok is None:
            tok = self._dictionary.tokenizer(mode=self.split_mode)
            self._local.tokenizer = tok
        return tok

    def tokenize(self, message: Message, attribute: str) -> list[Token]:
        text = message.get(attribute)
        tokens = self.tokenize_text(text)
        if not tokens and text:
            # like Rasa's WhitespaceTokenizer: never leave a non-empty text without tokens
            tokens = [Token(text, 0)]
        return self._apply_token_pattern(tokens)

    def tokenize_text(self, text: str) -> list[Token]:
        """Tokens for ``text``, with offsets into ``text`` itself."""
        sudachi = self._sudachi()
        tokens = []
        for offset, chunk in _chunks(text or ""):
            for m in sudachi.tokenize(chunk, self.split_mode):
                start, end = offset + m.begin(), offset + m.end()
                surface = text[start:end]
                if not surface.strip():
                    continue
                tokens.append(
                    Token(
                        surface,
                        start,
                        end=end,
                        lemma=m.normalized_form(),
                        data={"pos": m.part_of_speech()[0], "reading": m.reading_form()},
                    )
                )
        return tokens
