// @peculiar/x509 resolves its algorithm providers through tsyringe, which refuses to load unless
// the Reflect metadata API exists. Importing the polyfill first (ES imports evaluate in order, and
// esbuild keeps that order in the CJS bundle) is why every PKI file imports x509 from here.
import 'reflect-metadata';

export * from '@peculiar/x509';
