# wi-policy: `make run` and `make test` work on a fresh Debian machine with
# rustup Rust; every set-up step is in .ci/setup.
SHELL := /bin/bash
.DEFAULT_GOAL := run

# .ci/setup installs what is missing and writes the toolchain it chose here;
# make rebuilds this file first whenever it is missing or setup changed.
include .ci/toolchain.env
.ci/toolchain.env: .ci/setup
	.ci/setup

CARGO_ENV := $(RUSTC_ENV)
WASM_ENV := $(RUSTC_ENV) $(WASM_LINKER_ENV)
WASM_TARGET := wasm32-unknown-unknown
WASM_DIR := target/$(WASM_TARGET)/wasm
KUBECTL_WI := target/release/kubectl-wi
# Every native cargo command selects these packages, so that cargo resolves
# features once and builds wasmtime once (.ci/check-one-build checks it).
TEST_PACKAGES := -p kubectl-wi -p wi-conformance -p wi-core
PREFIX ?= /usr/local

.PHONY: setup component build policy web extism plugins test-plugins dist run test install bench clean readme-rules

setup:
	.ci/setup

# The core as a wasm module; plugin-host's build script turns it into a component.
component:
	$(WASM_ENV) $(CARGO) build --profile component --target $(WASM_TARGET) $(WASM_BUILD_STD) -p wi-component

build: component
	$(CARGO_ENV) $(CARGO) build --release -p kubectl-wi

# The Kubewarden policy: optimized module plus metadata, in target/kubewarden.
# annotated-policy.wasm carries metadata.yml (and README.md as usage) in the
# section `kwctl annotate` writes; kwctl run and push need it, and without it
# kwctl denies the ServiceAccount lookup. policy.wasm stays unannotated.
policy:
	$(WASM_ENV) $(CARGO) build --profile wasm --target $(WASM_TARGET) $(WASM_BUILD_STD) -p wi-kubewarden
	mkdir -p target/kubewarden
	cp $(WASM_DIR)/wi_kubewarden.wasm target/kubewarden/policy.wasm
	cp bundles/kubewarden/metadata.yml bundles/kubewarden/artifacthub-pkg.yml bundles/kubewarden/settings.schema.json bundles/kubewarden/policy-*.yaml target/kubewarden/
	$(CARGO_ENV) $(CARGO) build --release -q $(TEST_PACKAGES) --bin wi-kubewarden-annotate
	target/release/wi-kubewarden-annotate \
		target/kubewarden/policy.wasm -m bundles/kubewarden/metadata.yml -u README.md -o target/kubewarden/annotated-policy.wasm
	@ls -l target/kubewarden/policy.wasm target/kubewarden/annotated-policy.wasm


# The Extism plugin: the core for any Extism host (no WASI).
extism:
	$(WASM_ENV) $(CARGO) build --profile extism --target $(WASM_TARGET) $(WASM_BUILD_STD) -p wi-extism
	mkdir -p bundles/extism
	cp target/$(WASM_TARGET)/extism/wi_extism.wasm bundles/extism/wi_policy_extism.wasm
	@ls -l bundles/extism/wi_policy_extism.wasm

# The example rule plugin (bundles/plugins/prod-cost-center) as the module
# `kubectl wi lint --plugin` takes.
PLUGIN_DIR := target/$(WASM_TARGET)/component
plugins:
	$(WASM_ENV) $(CARGO) build --profile component --target $(WASM_TARGET) $(WASM_BUILD_STD) -p wi-plugin-prod-cost-center
	cp $(PLUGIN_DIR)/wi_plugin_prod_cost_center.wasm bundles/plugins/prod-cost-center.wasm
	@ls -l bundles/plugins/prod-cost-center.wasm

# The sandbox tests' misbehaving plugins, in target/plugins: one build per
# behaviour chosen at build time (the rest is chosen by the input).
test-plugins:
	mkdir -p target/plugins
	for variant in hostile:"" steal-prefix:--features=steal-prefix shadow-prefix:--features=shadow-prefix smuggler:--features=smuggler; do \
		$(WASM_ENV) $(CARGO) build -q --profile component --target $(WASM_TARGET) $(WASM_BUILD_STD) -p wi-plugin-hostile $${variant#*:} || exit 1; \
		cp $(PLUGIN_DIR)/wi_plugin_hostile.wasm target/plugins/$${variant%%:*}.wasm; \
	done

# The browser generator: the core through wasm-bindgen, size-optimized,
# with the page's sources, in bundles/web/dist (any static file server).
WEB_TOOLS := target/tools/.web-tools
$(WEB_TOOLS): .ci/web-tools tests/browser/package-lock.json bundles/web/package-lock.json policy/web/Cargo.toml
	.ci/web-tools

# Two modules from policy/web: the page's (generate, lint, mutate) and the
# token pane's (explain), which the page loads only when it is first used.
WASM_OPT_FLAGS := -Oz --strip-debug --strip-producers --enable-bulk-memory --enable-sign-ext --enable-nontrapping-float-to-int --enable-mutable-globals --enable-reference-types --enable-multivalue
# Panic locations (file names and lines) are left out of the page's modules:
# panics abort there and print nothing, and the names cost 6 KB gzipped.
# When std is built here (-Zbuild-std, the toolchain.md recipe), the page's
# std is built for size and panics abort at once, without formatting a
# message no one reads: 31 KB gzipped less. A prebuilt rustup std cannot
# do either, so a page built with one is larger (about 306 KB gzipped).
WEB_PANIC := $(if $(WASM_BUILD_STD), -Zunstable-options -Cpanic=immediate-abort,)
WEB_BUILD_STD := $(if $(WASM_BUILD_STD),$(WASM_BUILD_STD) -Zbuild-std-features=optimize_for_size,)
WEB_ENV := $(WASM_ENV) RUSTC_BOOTSTRAP=1 CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="-Zlocation-detail=none$(WEB_PANIC)"
web: $(WEB_TOOLS)
	rm -rf bundles/web/dist
	mkdir -p bundles/web/dist
	$(WEB_ENV) $(CARGO) build --profile web --target $(WASM_TARGET) $(WEB_BUILD_STD) -p wi-web --no-default-features --features explain
	target/tools/bin/wasm-bindgen --target web --no-typescript --out-dir bundles/web/dist --out-name wi_explain target/$(WASM_TARGET)/web/wi_web.wasm
	$(WEB_ENV) $(CARGO) build --profile web --target $(WASM_TARGET) $(WEB_BUILD_STD) -p wi-web
	target/tools/bin/wasm-bindgen --target web --no-typescript --out-dir bundles/web/dist target/$(WASM_TARGET)/web/wi_web.wasm
	for module in wi_web wi_explain; do \
		bundles/web/node_modules/.bin/wasm-opt $(WASM_OPT_FLAGS) bundles/web/dist/$${module}_bg.wasm -o bundles/web/dist/$${module}_bg.wasm || exit 1; \
		printf '%s: %s bytes, %s gzipped\n' $$module $$(wc -c < bundles/web/dist/$${module}_bg.wasm) $$(gzip -9c bundles/web/dist/$${module}_bg.wasm | wc -c); \
	done
	cp bundles/web/src/* bundles/web/dist/

# Lint, then mutate, the bundled examples. Lint exits 1 because the
# examples hold real mistakes on purpose.
EXAMPLE_MANIFESTS := -f bundles/examples/good -f bundles/examples/broken -f bundles/examples/azure-cli -f bundles/examples/migration -f bundles/examples/generate/aks-show.json

run: build plugins
	@echo "== kubectl wi lint $(EXAMPLE_MANIFESTS)"
	@$(KUBECTL_WI) lint $(EXAMPLE_MANIFESTS); rc=$$?; [ $$rc -le 1 ] || exit $$rc
	@echo
	@echo "== kubectl wi mutate -f bundles/examples/good -f bundles/examples/migration --kubernetes-version 1.32"
	@$(KUBECTL_WI) mutate -f bundles/examples/good -f bundles/examples/migration --kubernetes-version 1.32
	@echo
	@echo "== kubectl wi generate --spec bundles/examples/generate/spec.yaml -o target/generated --force"
	@$(KUBECTL_WI) generate --spec bundles/examples/generate/spec.yaml -o target/generated --force
	@$(KUBECTL_WI) lint -f target/generated/shop.yaml -f target/generated/shop-aso.yaml
	@echo
	@echo "== kubectl wi lint -f bundles/examples/iac/broken -f bundles/examples/iac/k8s -R (Terraform and ARM with the manifests)"
	@$(KUBECTL_WI) lint -f bundles/examples/iac/broken -f bundles/examples/iac/k8s -R; rc=$$?; [ $$rc -le 1 ] || exit $$rc
	@echo
	@echo "== kubectl wi lint -f bundles/examples/plugins --plugin bundles/plugins/prod-cost-center.wasm"
	@$(KUBECTL_WI) lint -f bundles/examples/plugins --plugin bundles/plugins/prod-cost-center.wasm; rc=$$?; [ $$rc -le 1 ] || exit $$rc

# One Python venv for the tools tests/outside checks generated files with
# (Azure CLI, kubernetes-validate, Bicep and HCL parsers); rebuilt only
# when the pinned requirements change.
VENV := target/venv
$(VENV)/.requirements: tests/outside/requirements.txt .ci/python-venv
	.ci/python-venv

test: build policy web extism plugins test-plugins dist $(VENV)/.requirements
	$(CARGO_ENV) CARGO=$(CARGO) .ci/check-one-build
	KUBECTL=$(CURDIR)/$(VENV)/bin/kubectl $(CARGO_ENV) $(CARGO) test --release $(TEST_PACKAGES) --no-fail-fast
	KUBECTL_WI=$(KUBECTL_WI) $(VENV)/bin/python -m pytest -q tests/outside
	KUBECTL_WI=$(KUBECTL_WI) node tests/browser/run.mjs

# The krew release: target/dist/kubectl-wi_<version>_<os>_<arch>.tar.gz and
# target/dist/wi.yaml, the manifest (bundles/krew/wi.yaml) with its sha256.
dist: build
	.ci/dist

install: build
	install -D -m 0755 $(KUBECTL_WI) $(DESTDIR)$(PREFIX)/bin/kubectl-wi
	$(DESTDIR)$(PREFIX)/bin/kubectl-wi precompile

bench: build policy web extism plugins test-plugins $(VENV)/.requirements
	$(CARGO_ENV) $(CARGO) build --release $(TEST_PACKAGES) --bin wi-bench-native --bin wi-bench-policy --bin wi-bench-extism
	$(WASM_ENV) $(CARGO) build --target $(WASM_TARGET) $(WASM_BUILD_STD) -p wi-kubewarden
	UNOPTIMIZED_POLICY=target/$(WASM_TARGET)/debug/wi_kubewarden.wasm tests/bench/run.sh

clean:
	$(CARGO) clean

# Regenerate the README's rule section from the catalogue.
readme-rules: build
	@python3 -c 'import re,subprocess,sys; \
	md=subprocess.run(["$(KUBECTL_WI)","rules","-o","markdown","--no-plugin-dir"],check=True,capture_output=True,text=True).stdout; \
	r=open("README.md").read(); \
	s=r.index("<!-- rules:start -->\n")+len("<!-- rules:start -->\n"); e=r.index("<!-- rules:end -->"); \
	open("README.md","w").write(r[:s]+md+r[e:])'
