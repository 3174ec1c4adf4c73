// Every WGSL kernel of crates/gpu compiles into a compute pipeline in headless Chromium's WebGPU
// (SwiftShader): browsers validate WGSL more strictly than naga, which the native tests use.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot, withServedApp } from './support.mjs';

const kernelDir = path.join(repoRoot, 'crates/gpu/src');
const kernels = fs.readdirSync(kernelDir).filter((f) => f.endsWith('.wgsl'));
const app = withServedApp();

test('there are kernels to check', () => {
  assert.ok(kernels.includes('dense.wgsl') && kernels.includes('score.wgsl'), kernels.join(', '));
});

for (const kernel of kernels) {
  test(`${kernel} compiles and links in Chromium's WebGPU`, async () => {
    const page = await app.browser.newPage();
    await page.goto(app.server.url); // a secure context (localhost) for navigator.gpu
    const code = fs.readFileSync(path.join(kernelDir, kernel), 'utf8');
    const result = await page.evaluate(async (code) => {
      const adapter = await navigator.gpu?.requestAdapter();
      if (!adapter) return { error: 'no WebGPU adapter' };
      const device = await adapter.requestDevice();
      device.pushErrorScope('validation');
      const module = device.createShaderModule({ code });
      const info = await module.getCompilationInfo();
      const messages = info.messages.filter((m) => m.type === 'error').map((m) => `${m.lineNum}:${m.linePos} ${m.message}`);
      let pipeline = 'not built';
      try {
        await device.createComputePipelineAsync({ layout: 'auto', compute: { module, entryPoint: 'main' } });
        pipeline = 'ok';
      } catch (err) {
        pipeline = err.message;
      }
      const scopeError = await device.popErrorScope();
      return { messages, pipeline, scope: scopeError?.message ?? null, adapter: adapter.info?.architecture ?? '' };
    }, code);
    await page.close();
    assert.equal(result.error, undefined, result.error);
    assert.deepEqual(result.messages, []);
    assert.equal(result.pipeline, 'ok');
    assert.equal(result.scope, null);
  });
}
