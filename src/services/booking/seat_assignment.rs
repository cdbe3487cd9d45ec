//! Choosing seats for a booking that did not name any: adjacent seats in one row where
//! possible, in the cheapest class that has room.

use crate::models::catalog::flight_seat;

/// A free seat and where it sits.
#[derive(Debug, Clone)]
pub struct FreeSeat {
    pub seat: String,
    pub row: i32,
    pub letter: char,
    pub price: i64,
}

impl FreeSeat {
    pub fn new(seat: &flight_seat::Model, price: i64) -> Self {
        Self {
            seat: seat.seat.clone(),
            row: seat.row_number,
            letter: seat.letter.chars().next().unwrap_or('A'),
            price,
        }
    }
}

/// Picks `count` seats from `free` (in row, then letter order) for one party. `layout` is the
/// airplane's row, e.g. `"ABC DEF"`: letters in one block sit side by side.
/// Returns `None` when too few seats are free.
pub fn choose(free: &[FreeSeat], count: usize, layout: &str) -> Option<Vec<String>> {
    if count == 0 || free.len() < count {
        return None;
    }
    let mut prices: Vec<i64> = free.iter().map(|s| s.price).collect();
    prices.sort_unstable();
    prices.dedup();
    // Cheapest class first; each class is tried whole before the next.
    for price in &prices {
        let class: Vec<&FreeSeat> = free.iter().filter(|s| s.price == *price).collect();
        if class.len() >= count {
            return Some(best_in(&class, count, layout));
        }
    }
    // No single class has room: mix, cheapest seats first.
    let mut all: Vec<&FreeSeat> = free.iter().collect();
    all.sort_by_key(|s| (s.price, s.row, s.letter));
    Some(all.iter().take(count).map(|s| s.seat.clone()).collect())
}

fn best_in(seats: &[&FreeSeat], count: usize, layout: &str) -> Vec<String> {
    let blocks: Vec<&str> = layout.split(' ').collect();
    let mut rows: Vec<i32> = seats.iter().map(|s| s.row).collect();
    rows.dedup();
    let free_in_row = |row: i32| -> Vec<char> {
        seats
            .iter()
            .filter(|s| s.row == row)
            .map(|s| s.letter)
            .collect()
    };
    let name = |row: i32, letter: char| format!("{row}{letter}");

    // 1. A run of side-by-side seats within one block of one row.
    for &row in &rows {
        let free = free_in_row(row);
        for block in &blocks {
            let letters: Vec<char> = block.chars().collect();
            for window in letters.windows(count) {
                if window.iter().all(|l| free.contains(l)) {
                    return window.iter().map(|l| name(row, *l)).collect();
                }
            }
        }
    }
    // 2. A run along the row, across an aisle.
    let row_letters: Vec<char> = layout.chars().filter(|c| *c != ' ').collect();
    for &row in &rows {
        let free = free_in_row(row);
        for window in row_letters.windows(count) {
            if window.iter().all(|l| free.contains(l)) {
                return window.iter().map(|l| name(row, *l)).collect();
            }
        }
    }
    // 3. Anywhere in one row.
    for &row in &rows {
        let free = free_in_row(row);
        if free.len() >= count {
            return free.iter().take(count).map(|l| name(row, *l)).collect();
        }
    }
    // 4. Front to back.
    seats.iter().take(count).map(|s| s.seat.clone()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seats(spec: &[(&str, i64)]) -> Vec<FreeSeat> {
        spec.iter()
            .map(|(seat, price)| {
                let letter = seat.chars().last().unwrap();
                FreeSeat {
                    seat: seat.to_string(),
                    row: seat[..seat.len() - 1].parse().unwrap(),
                    letter,
                    price: *price,
                }
            })
            .collect()
    }

    #[test]
    fn a_party_sits_together_within_one_block() {
        let free = seats(&[
            ("1A", 100),
            ("1C", 100),
            ("1D", 100),
            ("2A", 100),
            ("2B", 100),
            ("2C", 100),
        ]);
        assert_eq!(choose(&free, 2, "ABC DEF").unwrap(), ["2A", "2B"]);
        assert_eq!(choose(&free, 3, "ABC DEF").unwrap(), ["2A", "2B", "2C"]);
    }

    #[test]
    fn the_cheapest_class_with_room_is_used() {
        let free = seats(&[("1A", 300), ("1B", 300), ("5A", 100), ("5B", 100)]);
        assert_eq!(choose(&free, 2, "AB").unwrap(), ["5A", "5B"]);
        let free = seats(&[("1A", 300), ("1B", 300), ("5A", 100)]);
        assert_eq!(choose(&free, 2, "AB").unwrap(), ["1A", "1B"]);
    }

    #[test]
    fn too_few_seats_is_none_and_splits_are_a_last_resort() {
        let free = seats(&[("1A", 100), ("2B", 100)]);
        assert_eq!(choose(&free, 3, "AB"), None);
        assert_eq!(choose(&free, 2, "AB").unwrap(), ["1A", "2B"]);
        let mixed = seats(&[("1A", 300), ("5B", 100)]);
        assert_eq!(choose(&mixed, 2, "AB").unwrap(), ["5B", "1A"]);
    }
}
