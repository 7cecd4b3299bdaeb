// Nest edge for GrpcServer: provides the server and ties it to the application lifecycle
// (listen once every module is initialised, shut down gracefully when the app closes).
import {
  Inject,
  Injectable,
  Module,
  type DynamicModule,
  type InjectionToken,
  type ModuleMetadata,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  type OptionalFactoryDependency,
} from '@nestjs/common';
import { GrpcServer, type GrpcServerOptions } from './grpc-server.js';

export const GRPC_SERVER_OPTIONS = Symbol('GRPC_SERVER_OPTIONS');

@Injectable()
export class GrpcServerLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(@Inject(GrpcServer) private readonly server: GrpcServer) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.server.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.server.shutdown();
  }
}

export interface GrpcServerModuleAsyncOptions {
  readonly imports?: ModuleMetadata['imports'];
  readonly inject?: Array<InjectionToken | OptionalFactoryDependency>;
  /** Builds the options from injected providers (use cases for the implementations, config). */
  readonly useFactory: (...deps: never[]) => GrpcServerOptions | Promise<GrpcServerOptions>;
}

@Module({})
export class GrpcServerModule {
  static forRoot(options: GrpcServerOptions): DynamicModule {
    return GrpcServerModule.build([{ provide: GRPC_SERVER_OPTIONS, useValue: options }], []);
  }

  static forRootAsync(options: GrpcServerModuleAsyncOptions): DynamicModule {
    return GrpcServerModule.build(
      [{ provide: GRPC_SERVER_OPTIONS, useFactory: options.useFactory as (...deps: unknown[]) => unknown, inject: options.inject ?? [] }],
      options.imports ?? [],
    );
  }

  private static build(optionsProviders: DynamicModule['providers'] & object, imports: NonNullable<ModuleMetadata['imports']>): DynamicModule {
    return {
      module: GrpcServerModule,
      imports,
      providers: [
        ...optionsProviders,
        { provide: GrpcServer, useFactory: (options: GrpcServerOptions) => new GrpcServer(options), inject: [GRPC_SERVER_OPTIONS] },
        GrpcServerLifecycle,
      ],
      exports: [GrpcServer],
    };
  }
}
