"""Build a tiny, randomly initialised chat model on disk (for tests against a real LLM server).

Why: the integration tests start a real OpenAI-compatible server that this project did not write
(``transformers serve``) and need a model it can load without a download. A 2-layer Llama with a
byte-level BPE tokenizer trained here on a few sentences loads in about a second on a CPU. Its
replies are random tokens — which is the point: it shows what the client does when a server does
not constrain the output to JSON.
"""

from __future__ import annotations

from pathlib import Path

_CORPUS = [
    "The hypothesis is supported by the evidence.",
    "Both sides agree on the measurements but disagree about their cause.",
    '{"hypothesis": "text", "claims": [], "edges": [], "evidence": []}',
    "Light behaves as a wave in interference experiments and as particles in the photoelectric effect.",
]

CHAT_TEMPLATE = (
    "{% for message in messages %}<|{{ message['role'] }}|>{{ message['content'] }}<|end|>{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>{% endif %}"
)


def build_tiny_chat_model(folder: Path, *, seed: int = 0) -> Path:
    """Write config, weights, tokenizer and chat template of a tiny random Llama to ``folder``."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    folder.mkdir(parents=True, exist_ok=True)
    specials = ["<unk>", "<s>", "</s>", "<|system|>", "<|user|>", "<|assistant|>", "<|end|>"]
    tokenizer = Tokenizer(models.BPE(unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400, special_tokens=specials, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    tokenizer.train_from_iterator(_CORPUS * 4, trainer=trainer)
    fast = PreTrainedTokenizerFast(  # type: ignore[no-untyped-call]
        tokenizer_object=tokenizer,
        bos_token="<s>",
        eos_token="</s>",
        unk_token="<unk>",
        pad_token="</s>",
    )
    fast.chat_template = CHAT_TEMPLATE
    fast.save_pretrained(folder)
    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=tokenizer.get_vocab_size(),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=2,
        max_position_embeddings=4096,
        bos_token_id=fast.bos_token_id,
        eos_token_id=fast.eos_token_id,
        pad_token_id=fast.pad_token_id,
    )
    LlamaForCausalLM(config).save_pretrained(folder)
    return folder
