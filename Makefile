# The two commands a new user needs:
#   make run    install dependencies, build, start the server on its defaults
#   make test   install dependencies, build, run every test suite
BUILD_DIR ?= build
BUILD_TYPE ?= RelWithDebInfo
JOBS ?= $(shell nproc)

.PHONY: all deps build run test unit-test integration-test e2e-test container-test test-deps image format clean

all: build

deps:
	bash scripts/install-deps.sh

$(BUILD_DIR)/build.ninja:
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE)

build: $(BUILD_DIR)/build.ninja
	ninja -C $(BUILD_DIR) -j$(JOBS)
	@echo "binaries: $(BUILD_DIR)/bin/blockyard $(BUILD_DIR)/bin/by"

run: deps build
	$(BUILD_DIR)/bin/blockyard $(if $(CONFIG),--config $(CONFIG))

test-deps:
	cd tests && npm ci --no-audit --no-fund
	cd tests/container && npm ci --no-audit --no-fund

test: deps build test-deps
	cd $(BUILD_DIR) && ctest --output-on-failure --timeout 900

# The blockyard-process image on a Debian 12 base, with podman (see
# scripts/build-image.sh): make image [IMAGE=localhost/blockyard-process:dev]
IMAGE ?= localhost/blockyard-process:dev
image: deps build
	bash scripts/build-image.sh $(IMAGE)

unit-test: build
	cd $(BUILD_DIR) && ctest --output-on-failure -L unit

integration-test: build test-deps
	cd $(BUILD_DIR) && ctest --output-on-failure -L integration

e2e-test: build test-deps
	cd $(BUILD_DIR) && ctest --output-on-failure -L e2e

container-test: build test-deps
	cd $(BUILD_DIR) && ctest --output-on-failure -L container

format:
	clang-format -i $$(git ls-files '*.cc' '*.h')

clean:
	rm -rf $(BUILD_DIR)
