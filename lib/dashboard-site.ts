/**
 * The hosted dashboard: a private bucket behind CloudFront (origin access
 * control), with the query API at /api/* on the same distribution, so the page
 * needs no CORS. The built dashboard and its config.json deploy with the stack.
 */
import { join } from 'node:path';
import { Duration, Stack, Stage, Validations, type CfnElement } from 'aws-cdk-lib';
import {
  AllowedMethods,
  type BehaviorOptions,
  CacheCookieBehavior,
  CacheHeaderBehavior,
  CachePolicy,
  CacheQueryStringBehavior,
  Distribution,
  HeadersFrameOption,
  HeadersReferrerPolicy,
  OriginRequestCookieBehavior,
  OriginRequestHeaderBehavior,
  OriginRequestPolicy,
  OriginRequestQueryStringBehavior,
  PriceClass,
  ResponseHeadersPolicy,
  ViewerProtocolPolicy,
} from 'aws-cdk-lib/aws-cloudfront';
import { FunctionUrlOrigin, S3BucketOrigin } from 'aws-cdk-lib/aws-cloudfront-origins';
import type { FunctionUrl } from 'aws-cdk-lib/aws-lambda';
import type { Bucket, IBucket } from 'aws-cdk-lib/aws-s3';
import { BucketDeployment, Source } from 'aws-cdk-lib/aws-s3-deployment';
import { Construct } from 'constructs';
import { CONTENT_SECURITY_POLICY } from '../lambdas/query/security-headers.ts';
import type { DashboardConfig } from '../lambdas/query/dashboard-config.ts';
import { ANSWER_CACHE_SECONDS, answerStepMs, DASHBOARD_RANGE_STEP_SECONDS, DASHBOARD_REFRESH_SECONDS, DASHBOARD_STEPS_PER_RANGE, ORIGIN_READ_TIMEOUT_SECONDS } from '../lambdas/query-api/limits.ts';
import { MAX_RANGE_DAYS } from '../lambdas/query/parameters.ts';
import { buildDashboard } from './dashboard-build.ts';
import { acknowledge } from './nag.ts';
import { privateBucket } from './private-bucket.ts';

/** Where the page finds the API (dashboard/src/main.ts reads apiBaseUrl): beside it, on the same origin. */
export const API_PATH = '/api';

/** Where shops' trackers send events, on the same distribution (lambdas/collector). */
export const COLLECT_PATH = '/collect';

export interface DashboardSiteProps {
  readonly apiUrl: FunctionUrl;
  /** The collector's function URL, served at /collect/*. @default - no collector on the distribution */
  readonly collectorUrl?: FunctionUrl;
  readonly accessLogs: IBucket;
  /** @default PriceClass.PRICE_CLASS_100 (North America and Europe edge locations, the cheapest) */
  readonly priceClass?: PriceClass;
  /** The built dashboard directory. @default - built now with esbuild (buildDashboard) into `<cdk.out>/dashboard-<construct address>` */
  readonly assetDirectory?: string;
  /** How long CloudFront keeps an /api answer the API sends without a max-age; at most twice this, or the API's longest (a 31-day range's step), whatever the API asks. @default Duration.seconds(ANSWER_CACHE_SECONDS), i.e. 30 s */
  readonly apiCacheTtl?: Duration;
  /** How often the page asks the API for new answers (config.json refreshMs), whole seconds up to an hour. @default Duration.seconds(DASHBOARD_REFRESH_SECONDS), i.e. 10 s */
  readonly refreshInterval?: Duration;
  /**
   * The step the page aligns its time range to (config.json rangeStepMs), whole seconds up to an hour:
   * every viewer of a range sends the same URL for a step, so a step reaches Athena once while the
   * answer is cached at least that long. Answers are up to a step behind.
   * @default Duration.seconds(DASHBOARD_RANGE_STEP_SECONDS), i.e. 30 s, the API's answer cache time
   */
  readonly rangeStep?: Duration;
}

export class DashboardSite extends Construct {
  readonly bucket: Bucket;
  readonly distribution: Distribution;

  constructor(scope: Construct, id: string, props: DashboardSiteProps) {
    super(scope, id);
    const pageConfig: DashboardConfig = {
      apiBaseUrl: API_PATH,
      refreshMs: wholeSeconds('refreshInterval', props.refreshInterval ?? Duration.seconds(DASHBOARD_REFRESH_SECONDS)) * 1000,
      rangeStepMs: wholeSeconds('rangeStep', props.rangeStep ?? Duration.seconds(DASHBOARD_RANGE_STEP_SECONDS)) * 1000,
      stepsPerRange: DASHBOARD_STEPS_PER_RANGE,
    };
    this.bucket = privateBucket(this, 'Site', { accessLogs: props.accessLogs });
    const headers = new ResponseHeadersPolicy(this, 'SecurityHeaders', {
      comment: 'The same security headers as the local dashboard server',
      securityHeadersBehavior: {
        contentSecurityPolicy: { contentSecurityPolicy: CONTENT_SECURITY_POLICY, override: true },
        contentTypeOptions: { override: true },
        frameOptions: { frameOption: HeadersFrameOption.DENY, override: true },
        referrerPolicy: { referrerPolicy: HeadersReferrerPolicy.NO_REFERRER, override: true },
        strictTransportSecurity: { accessControlMaxAge: Duration.days(365), includeSubdomains: true, override: true },
      },
    });
    const apiTtl = props.apiCacheTtl ?? Duration.seconds(ANSWER_CACHE_SECONDS);
    // Repeated refreshes within the TTL are answered by CloudFront, not Athena. Every query
    // string is in the key (they are the query's parameters); headers and cookies change nothing.
    const apiCache = new CachePolicy(this, 'ApiCache', {
      comment: 'Query API answers: briefly, keyed by every query string',
      defaultTtl: apiTtl,
      minTtl: Duration.seconds(0),
      // The API's own s-maxage decides within [min, max]; the max bounds what an origin header can ask
      // for: the step of the longest range the API answers (answerStepMs), or twice the default.
      maxTtl: Duration.seconds(Math.max(2 * apiTtl.toSeconds(), answerStepMs(MAX_RANGE_DAYS * 86_400_000) / 1000)),
      queryStringBehavior: CacheQueryStringBehavior.all(),
      headerBehavior: CacheHeaderBehavior.none(),
      cookieBehavior: CacheCookieBehavior.none(),
      enableAcceptEncodingGzip: true,
      enableAcceptEncodingBrotli: true,
    });
    this.distribution = new Distribution(this, 'Distribution', {
      comment: 'Clickstream dashboard and query API',
      defaultRootObject: 'index.html',
      priceClass: props.priceClass ?? PriceClass.PRICE_CLASS_100,
      defaultBehavior: {
        origin: S3BucketOrigin.withOriginAccessControl(this.bucket),
        viewerProtocolPolicy: ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        responseHeadersPolicy: headers,
        cachePolicy: CachePolicy.CACHING_OPTIMIZED,
      },
      additionalBehaviors: {
        [`${API_PATH}/*`]: {
          origin: FunctionUrlOrigin.withOriginAccessControl(props.apiUrl, { readTimeout: Duration.seconds(ORIGIN_READ_TIMEOUT_SECONDS) }),
          viewerProtocolPolicy: ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
          allowedMethods: AllowedMethods.ALLOW_GET_HEAD_OPTIONS,
          cachePolicy: apiCache,
          // Function URLs reject a forwarded Host header.
          originRequestPolicy: OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
          responseHeadersPolicy: headers,
        },
        ...(props.collectorUrl && { [`${COLLECT_PATH}/*`]: this.collectBehavior(props.collectorUrl) }),
      },
    });
    Validations.of(this.distribution).acknowledge({ id: 'AwsSolutions-CFR1', reason: 'A public demo dashboard: no geographic restriction.' });
    Validations.of(this.distribution).acknowledge({ id: 'AwsSolutions-CFR2', reason: 'No WAF web ACL by default (about $5/month plus requests); the API is read-only with validated parameters and a per-query scan limit.' });
    Validations.of(this.distribution).acknowledge({ id: 'AwsSolutions-CFR3', reason: 'CloudFront standard logging needs an ACL-enabled bucket; the buckets here enforce owner-only objects. Enable v2 logging to CloudWatch if needed.' });
    Validations.of(this.distribution).acknowledge({ id: 'AwsSolutions-CFR4', reason: 'The default *.cloudfront.net certificate allows TLSv1 at the viewer; a custom domain with TLSv1.2_2021 needs a certificate this stack cannot assume.' });

    new BucketDeployment(this, 'Deploy', {
      destinationBucket: this.bucket,
      sources: [Source.asset(props.assetDirectory ?? this.buildInto()), Source.jsonData('config.json', pageConfig)],
      distribution: this.distribution,
      distributionPaths: ['/*'],
      memoryLimit: 256,
    });
    acknowledgeBucketDeployment(this, this.bucket);
  }

  /**
   * Trackers' requests: every method (POST, the GET pixel, CORS preflights), never cached,
   * with the headers the collector reads. The viewer address gives the country; the
   * Authorization header cannot be forwarded without caching on it, and the Segment write
   * key is in the body too. The collector sets its own CORS headers.
   */
  private collectBehavior(collectorUrl: FunctionUrl): BehaviorOptions {
    const forwarded = new OriginRequestPolicy(this, 'CollectRequests', {
      comment: "Collector: the tracker's headers and query, and the viewer's address",
      headerBehavior: OriginRequestHeaderBehavior.allowList(
        'Origin',
        'Access-Control-Request-Method',
        'Access-Control-Request-Headers',
        'Content-Type',
        'Content-Encoding',
        'User-Agent',
        'SP-Anonymous',
        'CloudFront-Viewer-Address',
      ),
      queryStringBehavior: OriginRequestQueryStringBehavior.all(),
      cookieBehavior: OriginRequestCookieBehavior.none(),
    });
    return {
      origin: new FunctionUrlOrigin(collectorUrl),
      viewerProtocolPolicy: ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
      allowedMethods: AllowedMethods.ALLOW_ALL,
      cachePolicy: CachePolicy.CACHING_DISABLED,
      originRequestPolicy: forwarded,
    };
  }

  /** A directory of this construct's own in the cloud assembly: stable across synths, never shared by two stacks. */
  private buildInto(): string {
    const stage = Stage.of(this);
    if (!stage) throw new Error('DashboardSite must be inside an App (or Stage) to build the dashboard: add the stack to an App or pass assetDirectory');
    return buildDashboard(join(stage.outdir, `dashboard-${this.node.addr}`));
  }

  get url(): string {
    return `https://${this.distribution.distributionDomainName}/`;
  }
}

function wholeSeconds(name: string, duration: Duration): number {
  const seconds = duration.toMilliseconds() / 1000;
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > 3600) throw new Error(`${name} must be a whole number of seconds from 1 to 3600, got ${seconds} s`);
  return seconds;
}

/** The deployment's provider function is CDK's own singleton at stack level; its grants are CDK's. */
function acknowledgeBucketDeployment(scope: Construct, siteBucket: Bucket): void {
  const provider = Stack.of(scope).node.children.find((c) => c.node.id.startsWith('Custom::CDKBucketDeployment'));
  if (!provider) return;
  const reason = 'CDK BucketDeployment provider: copies the dashboard asset into the site bucket and invalidates the distribution; its policy is generated by CDK.';
  acknowledge(provider, 'AwsSolutions-L1', reason);
  acknowledge(provider, 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]', reason);
  const bucketId = Stack.of(scope).getLogicalId(siteBucket.node.defaultChild as CfnElement);
  for (const finding of [
    'Action::s3:Abort*',
    'Action::s3:DeleteObject*',
    'Action::s3:GetBucket*',
    'Action::s3:GetObject*',
    'Action::s3:List*',
    'Resource::*',
    `Resource::<${bucketId}.Arn>/*`,
    'Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-<AWS::Region>/*',
  ]) {
    acknowledge(provider, `AwsSolutions-IAM5[${finding}]`, reason);
  }
}
