// The personal data viewer analytics keep. The data subject is the viewer:
// a signed-in member (viewer_user_id) or audience account (viewer_audience_id);
// anonymous viewers are linked to nothing but the day's visitor hash.
import type { ColumnDeclaration, DataMap } from '../../../platform/datamap.ts';

const no: ColumnDeclaration = { personal: false };
/** Signed-in viewers are linked by one of these; anonymous viewers by nothing. */
const VIEWER = 'viewer_user_id / viewer_audience_id';
const purpose = 'viewing statistics for the organization (views, watch time, completion, quality of delivery)';
const legalBasis = 'GDPR Art. 6(1)(f) legitimate interest of the organization in knowing how its videos are watched, limited by its analytics settings and Do Not Track';
const sessionRetention = 'the tenant\'s sessionRetentionDays (default 90, at most 730), then the row is deleted by the nightly analytics job';
const behaviour = (category: string): ColumnDeclaration => ({
  personal: true, category, subject: VIEWER, purpose, legalBasis, retention: sessionRetention, erasure: 'delete',
});

export const analyticsDatamap: DataMap = {
  analytics_settings: {
    tenant_id: no, ip_mode: no, ipv4_mask_bits: no, ip_retention_days: no, session_retention_days: no,
    honor_do_not_track: no, store_user_agent: no, updated_at: no,
  },
  analytics_sessions: {
    playback_id: behaviour('user.behavior.media_consumption'),
    tenant_id: no,
    video_id: behaviour('user.behavior.media_consumption'),
    day: behaviour('user.behavior.media_consumption'),
    started_at: behaviour('user.behavior.media_consumption'),
    last_event_at: behaviour('user.behavior.media_consumption'),
    watch_seconds: behaviour('user.behavior.media_consumption'),
    max_position: behaviour('user.behavior.media_consumption'),
    completed: behaviour('user.behavior.media_consumption'),
    quality_switches: behaviour('user.device.telemetry'),
    rebuffer_count: behaviour('user.device.telemetry'),
    rebuffer_ms: behaviour('user.device.telemetry'),
    renditions: behaviour('user.device.telemetry'),
    device_class: behaviour('user.device.device_type'),
    os: behaviour('user.device.device_type'),
    browser: behaviour('user.device.browser'),
    user_agent: {
      personal: true, category: 'user.device.user_agent', subject: VIEWER, purpose, legalBasis,
      retention: `stored only when the tenant's storeUserAgent is on; nulled when it is turned off; else ${sessionRetention}`, erasure: 'delete',
    },
    screen_width: behaviour('user.device.screen'),
    screen_height: behaviour('user.device.screen'),
    country: behaviour('user.location.imprecise'),
    ip: {
      personal: true, category: 'user.device.ip_address', subject: VIEWER, purpose, legalBasis,
      retention: 'stored per the tenant\'s ipMode (none, masked to /16 or /24 and IPv6 /48, or full); nulled after ipRetentionDays by the nightly job, and at once when ipMode becomes none',
      erasure: 'null',
    },
    viewer_user_id: {
      personal: true, category: 'user.unique_id', subject: VIEWER, purpose, legalBasis,
      retention: sessionRetention, erasure: 'delete',
    },
    viewer_audience_id: {
      personal: true, category: 'user.unique_id', subject: VIEWER, purpose, legalBasis,
      retention: sessionRetention, erasure: 'delete',
    },
    visitor_hash: {
      personal: true, category: 'user.unique_id.pseudonymous', subject: VIEWER, purpose: 'estimating unique viewers per day without storing IP addresses', legalBasis,
      retention: `${sessionRetention}; unlinkable after two days, when the day's salt is deleted`, erasure: 'delete',
    },
  },
  // Aggregates: counts per video and day, no viewer can be singled out.
  analytics_anonymous_views: { tenant_id: no, video_id: no, day: no, views: no },
  analytics_daily: {
    tenant_id: no, video_id: no, day: no, views: no, anonymous_views: no, unique_viewers_estimate: no, watch_seconds: no, completions: no,
    quality_switches: no, rebuffer_count: no, rebuffer_ms: no, countries: no, device_classes: no, os: no, browsers: no, renditions: no, rolled_up_at: no,
  },
  analytics_rollups: { tenant_id: no, day: no, rolled_up_at: no },
  // Random keys of the visitor hash, kept two days; no personal data of their own.
  analytics_salts: { day: no, salt: no, created_at: no },
};
