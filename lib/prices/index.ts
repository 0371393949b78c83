/** Day-ahead price pull (pure: no Azure Functions imports). See docs/sources.md, "Price pull". */
export {
  type DayAheadRequest,
  type DayAheadResult,
  deliveryDayBounds,
  fetchDayAhead,
  type FetchDayAheadOptions,
  isTransientPriceError,
  PRICE_PROVIDER_ERROR_CODES,
  PriceProviderError,
  type PriceProviderErrorCode,
} from './fetch';
export { landingPathForPrices } from './landing';
export {
  BIDDING_ZONES,
  type BiddingZone,
  biddingZone,
  PULL_PROVIDERS,
  type PullProvider,
  SUPPORTED_ZONES,
  zoneOfEic,
} from './zones';
